"""Arrears (欠费): the escalation ladder of an unpaid pay-later bill, and collection with incentives."""
