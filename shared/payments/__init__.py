"""Payments: bills, the payment-provider port, callbacks applied exactly once, refunds and reconciliation."""
