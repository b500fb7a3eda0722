"""The API accepts the citizens' user pool's RS256 ID tokens by the pool's JWKS, beside its own HS256
tokens: signature, issuer, audience (the app client), token use and expiry checked. A locally generated RSA
key and JWKS stand in for Cognito's (no network)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from datetime import datetime, timedelta, timezone

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from jwt.algorithms import RSAAlgorithm

from shared import tokens
from shared.auth import Role
from shared.errors import Unauthenticated

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=timezone.utc)
ISSUER = "https://cognito-idp.cn-north-1.amazonaws.com.cn/cn-north-1_AbCdEfGhI"
CLIENT = "4tq0example0client0id0abc"
HS_KEY = "platform-signing-key-for-tests-only-32b"


def _rsa():
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


POOL_KEY, OTHER_KEY = _rsa(), _rsa()


def _jwks(*keys_and_ids) -> dict:
    return {"keys": [{**json.loads(RSAAlgorithm.to_jwk(k.public_key())), "kid": kid, "alg": "RS256", "use": "sig"}
                     for k, kid in keys_and_ids]}


POOL = tokens.TokenPool(ISSUER, CLIENT, tokens.keys_from_jwks(_jwks((POOL_KEY, "k1"))))


def _id_token(key=POOL_KEY, kid="k1", **overrides) -> str:
    claims = {"sub": "5b2c1f0e-2f4a-4c1e-9d7b-0a1b2c3d4e5f", "cognito:groups": ["citizen"], "iss": ISSUER, "aud": CLIENT,
              "token_use": "id", "auth_time": int(NOW.timestamp()), "iat": int(NOW.timestamp()),
              "exp": int((NOW + timedelta(hours=1)).timestamp()), "phone_number": "+8613800138000"}
    claims.update(overrides)
    return jwt.encode({k: v for k, v in claims.items() if v is not None}, key, algorithm="RS256", headers={"kid": kid})


def _refused(token: str, pool=POOL) -> str:
    with pytest.raises(Unauthenticated) as refused:
        tokens.verify_bearer(HS_KEY, token, now=NOW, pool=pool)
    return refused.value.code


def test_a_pool_id_token_is_a_principal():
    citizen = tokens.verify_bearer(HS_KEY, _id_token(), now=NOW, pool=POOL)
    assert citizen.role is Role.CITIZEN and citizen.subject.startswith("5b2c1f0e") and citizen.district_code is None
    staff = tokens.verify_bearer(HS_KEY, _id_token(**{"cognito:groups": ["district_admin"], "custom:district": "320213"}),
                                 now=NOW, pool=POOL)
    assert staff.role is Role.DISTRICT_ADMIN and staff.district_code == "320213"


def test_the_platforms_own_tokens_still_pass_beside_the_pool():
    own = tokens.mint(HS_KEY, subject="clerk", role=Role.CITY_ADMIN, now=NOW)
    assert tokens.verify_bearer(HS_KEY, own, now=NOW, pool=POOL).role is Role.CITY_ADMIN
    assert tokens.verify_bearer(HS_KEY, own, now=NOW, pool=None).role is Role.CITY_ADMIN


@pytest.mark.parametrize(("token", "code"), [
    (lambda: _id_token(key=OTHER_KEY), "token_bad_signature"),  # signed by another key under the pool's kid
    (lambda: _id_token(kid="k9"), "token_malformed"),  # a kid the pool does not have
    (lambda: _id_token(aud="another-client"), "token_claims"),
    (lambda: _id_token(iss="https://cognito-idp.cn-north-1.amazonaws.com.cn/cn-north-1_Other"), "token_claims"),
    (lambda: _id_token(token_use="access"), "token_claims"),
    (lambda: _id_token(token_use=None), "token_claims"),
    (lambda: _id_token(exp=int(NOW.timestamp())), "token_expired"),  # expiry on the platform's clock
    (lambda: _id_token(**{"cognito:groups": ["citizen", "city_admin"]}), "token_claims"),
    (lambda: _id_token(**{"custom:district": "320213"}), "token_claims"),  # a citizen with a district
    (lambda: "eyJhbGciOiJSUzI1NiJ9.e30.", "token_malformed"),
    (lambda: "not.a.token", "token_malformed"),
], ids=["other-key", "unknown-kid", "audience", "issuer", "access-token", "no-token-use", "expired", "two-groups",
        "citizen-with-district", "empty-signature", "garbage"])  # fmt: skip
def test_pool_tokens_are_refused_with_a_code(token, code):
    assert _refused(token()) == code


def test_without_a_pool_an_rs256_token_is_refused():
    assert _refused(_id_token(), pool=None) == "token_malformed"


def test_an_hs256_token_claiming_the_pool_is_not_checked_with_the_public_key():
    """Algorithm confusion: an HS256 token "signed" with the pool's public key goes to the HS256 path."""
    public_pem = POOL_KEY.public_key().public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo)

    def b64(data: bytes) -> str:
        return base64.urlsafe_b64encode(data).rstrip(b"=").decode()

    signing_input = b64(b'{"alg":"HS256","typ":"JWT","kid":"k1"}') + "." + b64(json.dumps(
        {"sub": "x", "role": "city_admin", "exp": 2_000_000_000, "iss": ISSUER, "aud": CLIENT, "token_use": "id"}).encode())
    forged = signing_input + "." + b64(hmac.new(public_pem, signing_input.encode(), hashlib.sha256).digest())
    assert _refused(forged) == "token_bad_signature"


def test_the_api_takes_a_pool_token_as_the_principal(monkeypatch):
    from functions.api import http
    from shared import bootstrap
    from shared.clock import ManualClock

    stores = bootstrap.memory_stores()
    stores.token_pool = POOL
    monkeypatch.setattr(bootstrap, "_services", bootstrap.build(ManualClock(NOW), stores))
    monkeypatch.setattr(http, "services", bootstrap.services, raising=False)

    def authorize(token: str) -> dict:
        try:
            caller = http.admin_token(f"Bearer {token}")
        except Unauthenticated as error:
            return {"refused": error.code}
        return {"sub": caller.subject, "role": caller.role.value, "district": caller.district_code}

    staff = _id_token(**{"cognito:groups": ["district_admin"], "custom:district": "320213"})
    assert authorize(staff) == {"sub": "5b2c1f0e-2f4a-4c1e-9d7b-0a1b2c3d4e5f", "role": "district_admin", "district": "320213"}
    assert authorize(_id_token(aud="another-client")) == {"refused": "token_claims"}
