"""Admin and citizen bearer tokens: HS256 JWTs signed and verified with PyJWT, for local and
self-hosted use. In AWS the same claims come from Cognito (its groups map onto ``role``, custom attributes
onto ``district`` and ``operator``); either way they are validated by one claims model per role and become
a ``Principal``, and the domain (``shared/access.py``) decides what it may do.

Claims: ``sub``, ``role``, ``district`` (district roles only), ``operator`` (operator role only), ``iat``,
``exp``. A claim that does not belong to the role (a citizen with a district) is refused, never ignored:
401 ``token_claims``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Annotated, Literal

import jwt
from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError

from shared.auth import Principal, Role
from shared.errors import InvalidInput, Unauthenticated

ALGORITHM = "HS256"
MAX_TOKEN_CHARS = 4096  # a header beyond this is not one of ours; refuse before decoding anything

_Subject = Annotated[str, Field(min_length=1, max_length=128)]
_District = Annotated[str, Field(pattern=r"^3202(05|06|11|13|14|81|82)$")]
_Operator = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_\-]+$")]


class _Claims(BaseModel):
    # Registered JWT claims (iat, exp, iss, ...) and Cognito's own pass; ours are typed strictly.
    model_config = ConfigDict(extra="ignore", strict=True, frozen=True)
    sub: _Subject


class CityClaims(_Claims):
    """City staff and auditors: city-wide, so neither a district nor an operator."""

    role: Literal["city_admin", "auditor"]
    district: None = None
    operator: None = None


class CitizenClaims(_Claims):
    """A service-window account: its own plates only."""

    role: Literal["citizen"]
    district: None = None
    operator: None = None


class DistrictClaims(_Claims):
    """District staff and a district's platform: exactly one district."""

    role: Literal["district_admin", "district_platform"]
    district: _District
    operator: None = None


class OperatorClaims(_Claims):
    """A lot operator: exactly one operator, no district (its lots say where it works)."""

    role: Literal["operator"]
    operator: _Operator
    district: None = None


Claims = Annotated[CityClaims | CitizenClaims | DistrictClaims | OperatorClaims, Field(discriminator="role")]
_CLAIMS = TypeAdapter(Claims)


def claims_for(subject: str, role: Role, district_code: str | None = None, operator_id: str | None = None) -> dict:
    """The role's claims, validated as ``verify`` will: a district only for district roles, an operator
    only for operators (``tools/mint_token`` refuses anything else before it fetches the key)."""
    claims: dict = {"sub": subject, "role": role.value}
    if district_code is not None:
        claims["district"] = district_code
    if operator_id is not None:
        claims["operator"] = operator_id
    try:
        _CLAIMS.validate_python(claims)
    except ValidationError as exc:
        needs = {"district_admin": "a district", "district_platform": "a district", "operator": "an operator id"}
        raise InvalidInput(
            f"a {role.value} token takes {needs.get(role.value, 'neither a district nor an operator')}",
            code="operator_required" if role is Role.OPERATOR else
            "district_required" if role in (Role.DISTRICT_ADMIN, Role.DISTRICT_PLATFORM) else "token_claims",
        ) from exc  # fmt: skip
    return claims


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
    claims = claims_for(subject, role, district_code, operator_id)
    claims |= {"iat": int(now.timestamp()), "exp": int((now + ttl).timestamp())}
    return jwt.encode(claims, key, algorithm=ALGORITHM)


def verify(key: str, token: str, *, now: datetime) -> Principal:
    """The principal of a valid token; 401 with a code for anything else, however malformed."""
    if not token:
        raise Unauthenticated("a bearer token is required", code="token_missing")
    if len(token) > MAX_TOKEN_CHARS:
        raise Unauthenticated("malformed bearer token", code="token_malformed")
    try:
        # Expiry is checked below against the platform's clock (code takes a clock), not PyJWT's.
        claims = jwt.decode(token, key, algorithms=[ALGORITHM], options={"verify_exp": False, "verify_iat": False,
                                                                           "verify_nbf": False, "require": ["exp", "sub"]})
    except jwt.InvalidSignatureError as exc:
        raise Unauthenticated("bad token signature", code="token_bad_signature") from exc
    except jwt.MissingRequiredClaimError as exc:
        raise Unauthenticated("token claims incomplete", code="token_claims") from exc
    except (jwt.InvalidTokenError, ValueError, TypeError, RecursionError) as exc:
        raise Unauthenticated("malformed bearer token", code="token_malformed") from exc
    if not isinstance(claims, dict):
        raise Unauthenticated("malformed bearer token", code="token_malformed")
    return _unexpired_principal(claims, now)


def _unexpired_principal(claims: dict, now: datetime) -> Principal:
    """Expiry on the platform's clock (``exp`` an integer), then the role's claims: for both kinds of token."""
    exp = claims.get("exp")
    if type(exp) is not int:
        raise Unauthenticated("token claims incomplete", code="token_claims")
    if exp <= now.timestamp():
        raise Unauthenticated("token expired", code="token_expired")
    return principal_from_claims(claims)


def principal_from_claims(claims: object) -> Principal:
    """Our token's claims, or Cognito's: ``cognito:groups`` (one group: the role), ``custom:district``,
    ``custom:operator``, and for a citizen ``account`` (the account id of the phone). Validated by the role's claims model; anything off is 401 ``token_claims``."""
    if not isinstance(claims, dict):
        raise Unauthenticated("token claims incomplete", code="token_claims")
    if "cognito:groups" in claims:
        groups = claims["cognito:groups"]
        if isinstance(groups, str):  # API Gateway passes the list as one string, "[city_admin]"
            groups = groups.strip("[]").replace(",", " ").split()
        if not isinstance(groups, list) or len(groups) != 1:
            raise Unauthenticated("a Cognito user belongs to exactly one role group", code="token_claims")
        # a citizen's subject is the account id the pre-token trigger put in ``account`` (the same as the
        # platform's own sign-in gives that phone); staff keep the pool's ``sub``
        subject = claims.get("account") if groups[0] == Role.CITIZEN.value and claims.get("account") else claims.get("sub")
        claims = {"sub": subject, "role": groups[0],
                  **({"district": claims["custom:district"]} if claims.get("custom:district") else {}),
                  **({"operator": claims["custom:operator"]} if claims.get("custom:operator") else {})}
    try:
        parsed = _CLAIMS.validate_python({k: v for k, v in claims.items() if k in ("sub", "role", "district", "operator")})
    except ValidationError as exc:
        raise Unauthenticated("token claims do not fit the role", code="token_claims") from exc
    return Principal(subject=parsed.sub, role=Role(parsed.role), district_code=parsed.district, operator_id=parsed.operator)


# Cognito (issue 14): the citizens' user pool signs its ID tokens with RS256; its public keys are its JWKS.
POOL_ALGORITHM = "RS256"


@dataclass(frozen=True)
class TokenPool:
    """A Cognito user pool whose ID tokens the API accepts: its issuer URL, the app client's id (the
    tokens' audience) and ``signing_key(token)``, the public key the token's ``kid`` names (a JWKS)."""

    issuer: str
    client_id: str
    signing_key: Callable[[str], object]


def keys_from_jwks(jwks: dict) -> Callable[[str], object]:
    """``signing_key`` from a JWKS document already at hand (tests; ``shared/adapters/cognito.py`` fetches it)."""
    keys = jwt.PyJWKSet.from_dict(jwks)

    def signing_key(token: str) -> object:
        kid = jwt.get_unverified_header(token).get("kid")
        for key in keys.keys:
            if key.key_id == kid:
                return key.key
        raise jwt.InvalidTokenError("no key of the pool has this kid")

    return signing_key


def verify_bearer(key: str, token: str, *, now: datetime, pool: TokenPool | None = None) -> Principal:
    """The platform's HS256 token, or, when a pool is configured, one of its RS256 ID tokens."""
    if pool is not None and token and len(token) <= MAX_TOKEN_CHARS:
        try:
            algorithm = jwt.get_unverified_header(token).get("alg")
        except (jwt.InvalidTokenError, ValueError, TypeError, AttributeError, RecursionError) as exc:
            raise Unauthenticated("malformed bearer token", code="token_malformed") from exc
        if algorithm == POOL_ALGORITHM:
            return verify_pool_token(pool, token, now=now)
    return verify(key, token, now=now)


def verify_pool_token(pool: TokenPool, token: str, *, now: datetime) -> Principal:
    """A Cognito ID token: RS256 by a key of the pool's JWKS, issued by the pool for its app client, an ID
    token (not an access token), unexpired on the platform's clock. Its groups and custom attributes then
    become the principal (``principal_from_claims``)."""
    try:
        claims = jwt.decode(token, pool.signing_key(token), algorithms=[POOL_ALGORITHM], audience=pool.client_id,
                            issuer=pool.issuer, options={"verify_exp": False, "verify_iat": False, "verify_nbf": False,
                                                         "require": ["exp", "sub", "iss", "aud", "token_use"]})
    except jwt.InvalidSignatureError as exc:
        raise Unauthenticated("bad token signature", code="token_bad_signature") from exc
    except jwt.MissingRequiredClaimError as exc:
        raise Unauthenticated("token claims incomplete", code="token_claims") from exc
    except (jwt.InvalidAudienceError, jwt.InvalidIssuerError) as exc:
        raise Unauthenticated("the token is not for this platform", code="token_claims") from exc
    except (jwt.PyJWKClientError, jwt.InvalidTokenError, ValueError, TypeError, RecursionError) as exc:
        raise Unauthenticated("malformed bearer token", code="token_malformed") from exc
    if claims.get("token_use") != "id":
        raise Unauthenticated("an ID token is required", code="token_claims")
    return _unexpired_principal(claims, now)
