"""Parking sessions: entry and exit matching, berth sessions, reconciliation of out-of-order events."""
