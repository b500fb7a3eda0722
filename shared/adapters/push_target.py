"""Where the city push goes: read from the environment, so both store factories share it without the
memory stores importing the DynamoDB outbox."""

from __future__ import annotations

import os

from shared.citypush.ports import Target


def push_target() -> Target:
    """From the environment: ``TONGTING_CITY_PUSH_URL`` (unset: pushes wait), ``TONGTING_CITY_PUSH_KEY_ID`` and
    ``TONGTING_CITY_PUSH_SECRET`` (the HMAC key agreed with the city data bureau, set by ops)."""
    return Target(
        url=os.environ.get("TONGTING_CITY_PUSH_URL") or None,
        key_id=os.environ.get("TONGTING_CITY_PUSH_KEY_ID", "tongting-platform"),
        secret=os.environ.get("TONGTING_CITY_PUSH_SECRET", ""),
        timeout_s=float(os.environ.get("TONGTING_CITY_PUSH_TIMEOUT_S", "5")),
    )
