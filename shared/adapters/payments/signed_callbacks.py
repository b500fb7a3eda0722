"""The HMAC-SHA256 callback signature both simulated providers use, shaped like a real PSP's (Stripe):
``t=<unix seconds>,v1=<hex hmac of "{t}.{body}">``. The timestamp is signed too, so a captured callback
cannot be replayed outside the tolerance window."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from datetime import datetime

from shared.errors import InvalidInput

DEFAULT_TOLERANCE_S = 300


def _mac(secret: str | bytes, body: bytes, timestamp: int) -> str:
    key = secret.encode() if isinstance(secret, str) else secret
    return hmac.new(key, f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()


def sign(secret: str | bytes, body: bytes, timestamp: int) -> str:
    """The signature header's value for ``body`` sent at ``timestamp`` (unix seconds)."""
    return f"t={timestamp},v1={_mac(secret, body, timestamp)}"


def header(headers: Mapping[str, str], name: str) -> str | None:
    """A header's value, whatever case the transport delivered it in (HTTP names are case-insensitive)."""
    wanted = name.lower()
    return next((value for key, value in headers.items() if key.lower() == wanted), None)


def _parse(header: str) -> tuple[int, list[str]]:
    timestamp: int | None = None
    macs: list[str] = []
    for part in header.split(","):
        key, sep, value = part.strip().partition("=")
        if not sep:
            raise ValueError(part)
        if key == "t":
            timestamp = int(value)
        elif key == "v1":
            macs.append(value)
    if timestamp is None or not macs:
        raise ValueError(header)
    return timestamp, macs


def verify(
    secret: str | bytes, header: str | None, body: bytes, now: datetime, tolerance_s: int = DEFAULT_TOLERANCE_S
) -> None:
    """Accept the callback or raise ``InvalidInput(code="bad_signature")``. Several ``v1`` entries are allowed
    (a provider rotating its secret signs with both); any one matching is enough."""
    if not header:
        raise InvalidInput("The callback carries no signature", code="bad_signature")
    try:
        timestamp, macs = _parse(header)
    except ValueError:
        raise InvalidInput("The callback signature is malformed", code="bad_signature") from None
    expected = _mac(secret, body, timestamp)
    # compare_digest on every candidate, no early exit on the first match, so timing reveals nothing.
    matched = [hmac.compare_digest(expected.encode(), mac.encode()) for mac in macs]
    if not any(matched):
        raise InvalidInput("The callback signature does not match", code="bad_signature")
    if abs(now.timestamp() - timestamp) > tolerance_s:
        raise InvalidInput("The callback signature is too old (or from the future)", code="bad_signature")
