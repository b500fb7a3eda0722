"""Decoding request bodies: any malformation (bad UTF-8, bad JSON, nesting deep enough to exhaust the
decoder's recursion, a body of 100,000 "[") is the caller's 400, never a crash."""

from __future__ import annotations

import json

from shared.errors import InvalidInput


def parse_json(raw: bytes | str, code: str = "invalid_json"):
    try:
        return json.loads(raw)
    except (ValueError, UnicodeDecodeError, RecursionError) as exc:
        raise InvalidInput(f"body is not JSON: {type(exc).__name__}", code=code) from None
