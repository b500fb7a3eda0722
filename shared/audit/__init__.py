"""The verifiable archive for auditors: an append-only Merkle log (RFC 9162 hashing), its tiles in the
C2SP tlog-tiles layout and signed checkpoints in the C2SP signed-note format.

``merkle``, ``tiles`` and ``note`` are pure (no I/O); ``log`` appends through ports (``ports``)."""
