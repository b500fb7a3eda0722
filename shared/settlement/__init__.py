"""Daily settlement statements per operator and the half-yearly platform service fee (S10)."""
