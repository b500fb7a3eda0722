"""Discounts and coupons that operators fund (S17): applied to a bill before payment, posted to the ledger."""
