"""Supervision of lots (S16): links cut, data hidden."""
