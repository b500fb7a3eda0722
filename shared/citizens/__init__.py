"""Citizens of the service window: accounts, verified plates, pay-later consent and saved payment methods."""
