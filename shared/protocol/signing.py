"""Request signing for protocol v1 (pure: no I/O).

A device signs ``timestamp + "\\n" + nonce + "\\n" + hex(sha256(body))`` with HMAC-SHA256 under its own
secret and sends the hex digest in ``X-Signature``. Hashing the body first keeps the string to sign small
and lets a gateway verify without buffering twice.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

WINDOW_SECONDS = 300
HEADER_DEVICE = "X-Device-Id"
HEADER_TIMESTAMP = "X-Timestamp"
HEADER_NONCE = "X-Nonce"
HEADER_SIGNATURE = "X-Signature"


def string_to_sign(timestamp: str, nonce: str, body: bytes) -> bytes:
    return f"{timestamp}\n{nonce}\n{hashlib.sha256(body).hexdigest()}".encode()


def sign(secret: str, timestamp: str, nonce: str, body: bytes) -> str:
    return hmac.new(secret.encode(), string_to_sign(timestamp, nonce, body), hashlib.sha256).hexdigest()


def verify(secret: str, timestamp: str, nonce: str, body: bytes, signature: str) -> bool:
    # Bytes, not str: compare_digest raises on non-ASCII text, which must be a plain mismatch (401).
    return hmac.compare_digest(sign(secret, timestamp, nonce, body).encode(), signature.lower().encode())


def signed_headers(device_id: str, secret: str, body: bytes, unix_now: int) -> dict[str, str]:
    """Headers a device sends; used by the CLI, the demo and the benchmark."""
    nonce = secrets.token_hex(16)
    ts = str(unix_now)
    return {
        HEADER_DEVICE: device_id,
        HEADER_TIMESTAMP: ts,
        HEADER_NONCE: nonce,
        HEADER_SIGNATURE: sign(secret, ts, nonce, body),
        "Content-Type": "application/json",
    }


def new_secret() -> str:
    return secrets.token_urlsafe(32)
