"""The citizens' Cognito user pool as the API's token check sees it: issuer and app client from the
environment (set by ``infra/cdk/citizen_pool.py``), public keys from the pool's JWKS, fetched by PyJWT and
cached per process (a new ``kid`` after Cognito rotates its keys is fetched once)."""

from __future__ import annotations

import functools
import os

import jwt

from shared.tokens import TokenPool

ISSUER_ENV, CLIENT_ENV = "TONGTING_COGNITO_ISSUER", "TONGTING_COGNITO_CLIENT_ID"


def configured_pool() -> TokenPool | None:
    issuer, client_id = os.environ.get(ISSUER_ENV), os.environ.get(CLIENT_ENV)
    if not issuer or not client_id:
        return None  # locally and in tests: the platform's own tokens only
    return TokenPool(issuer, client_id, _jwks(issuer).get_signing_key_from_jwt_key)


class _Jwks(jwt.PyJWKClient):
    def get_signing_key_from_jwt_key(self, token: str) -> object:
        return self.get_signing_key_from_jwt(token).key


@functools.cache
def _jwks(issuer: str) -> _Jwks:
    return _Jwks(f"{issuer}/.well-known/jwks.json", cache_keys=True, lifespan=3600, timeout=5)
