"""Live availability and guidance for the public service window (S1, S6)."""
