"""The smart-compliance checklist of lots and the compliance rate (S14)."""
