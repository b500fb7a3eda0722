"""Networking protocol v1: the unified standard every lot system and device speaks (S1)."""
