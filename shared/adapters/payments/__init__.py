"""Payment-provider adapters: implementations of ``shared.payments.provider.PaymentProvider``."""
