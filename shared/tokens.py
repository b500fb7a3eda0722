"""Admin bearer tokens: compact HS256 JWTs, minted and verified by the project for local and
self-hosted use. In AWS the same claims come from Cognito groups; either way they become a
``Principal`` and the domain enforces what it may do.

Claims: ``sub``, ``role``, ``district`` (district roles), ``operator`` (operator role), ``iat``, ``exp``.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from datetime import datetime, timedelta

from pydantic import ValidationError

from shared.auth import Principal, Role
from shared.errors import InvalidInput, Unauthenticated

_HEADER = {"alg": "HS256", "typ": "JWT"}


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def mint(
    key: str,
    *,
    subject: str,
    role: Role,
    now: datetime,
    district_code: str | None = None,
    operator_id: str | None = None,
    ttl: timedelta = timedelta(hours=12),
) -> str:
    if role in (Role.DISTRICT_ADMIN, Role.DISTRICT_PLATFORM) and not district_code:
        raise InvalidInput("a district role needs a district code", code="district_required")
    if role is Role.OPERATOR and not operator_id:
        raise InvalidInput("an operator role needs an operator id", code="operator_required")
    claims = {"sub": subject, "role": role.value, "iat": int(now.timestamp()), "exp": int((now + ttl).timestamp())}
    if district_code:
        claims["district"] = district_code
    if operator_id:
        claims["operator"] = operator_id
    signing_input = f"{_b64(json.dumps(_HEADER).encode())}.{_b64(json.dumps(claims).encode())}"
    sig = hmac.new(key.encode(), signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{_b64(sig)}"


def verify(key: str, token: str, *, now: datetime) -> Principal:
    try:
        header_b64, claims_b64, sig_b64 = token.split(".")
        header = json.loads(_unb64(header_b64))
        signature = _unb64(sig_b64)
    except (ValueError, json.JSONDecodeError) as exc:
        raise Unauthenticated("malformed bearer token", code="token_malformed") from exc
    if header.get("alg") != "HS256":
        raise Unauthenticated("unsupported token algorithm", code="token_malformed")
    expected = hmac.new(key.encode(), f"{header_b64}.{claims_b64}".encode(), hashlib.sha256).digest()
    if not hmac.compare_digest(expected, signature):
        raise Unauthenticated("bad token signature", code="token_bad_signature")
    claims = json.loads(_unb64(claims_b64))
    if int(claims.get("exp", 0)) <= now.timestamp():
        raise Unauthenticated("token expired", code="token_expired")
    return principal_from_claims(claims)


def principal_from_claims(claims: dict) -> Principal:
    """Also used for Cognito: its groups map onto ``role`` and custom attributes onto the rest."""
    try:
        return Principal(
            subject=str(claims["sub"]),
            role=Role(claims["role"]),
            district_code=claims.get("district"),
            operator_id=claims.get("operator"),
        )
    except (KeyError, ValueError, ValidationError) as exc:
        raise Unauthenticated("token claims incomplete", code="token_claims") from exc
