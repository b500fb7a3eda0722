"""Tongting's domain library: the parking domain (registry, protocol, sessions, availability, archive)
with its AWS adapters kept apart in ``shared.adapters``."""
