"""Fixtures of the trust-boundary tests: a bearer token for any role and claims, on whichever stores the test runs."""

from __future__ import annotations

import pytest

from shared import tokens
from shared.auth import Role


@pytest.fixture
def bearer(platform, clock, city):
    def make(role: Role, subject: str | None = None, **claims) -> dict:
        t = tokens.mint(platform.services.token_key(), subject=subject or f"{role.value}-x", role=role, now=clock.now(), **claims)
        return {"Authorization": f"Bearer {t}", "Content-Type": "application/json"}

    return make
