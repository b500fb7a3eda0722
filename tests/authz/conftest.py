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


# Schemathesis builds each operation's hypothesis test (its coverage-phase cases and its examples) when it
# collects it, so every xdist worker built all 103 operations' tests (~40 % of a worker's collection, ~5 s of
# CPU) though one worker runs them. Here collection gets a stand-in with the built test's signature, and the
# item's test is built when it is set up to run: the same function, arguments and seed, so the same cases.
def _lazy_build_operation_test(**kwargs):
    import functools
    import inspect

    test_func, given = kwargs["test_func"], kwargs["given_kwargs"]

    def not_built(*args, **kw):  # pragma: no cover - replaced in pytest_runtest_setup
        raise RuntimeError("the schemathesis test was not built")

    functools.update_wrapper(not_built, test_func)
    signature = inspect.signature(test_func)
    drawn = {"case", *given}  # what hypothesis passes (schemathesis's case), not fixtures
    not_built.__signature__ = signature.replace(parameters=[p for name, p in signature.parameters.items() if name not in drawn])
    not_built.build = functools.partial(_build_operation_test, **kwargs)
    return not_built


try:
    from schemathesis.pytest import _test_builder
except ImportError:  # pragma: no cover - the test extra installs it
    pass
else:
    _build_operation_test = _test_builder.build_operation_test
    _test_builder.build_operation_test = _lazy_build_operation_test


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item):
    build = getattr(getattr(item, "obj", None), "build", None)
    if build is not None and getattr(item.obj, "__wrapped__", None) is getattr(item, "test_function", object()):
        item.obj = build()
