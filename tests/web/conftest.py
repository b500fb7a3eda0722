"""One headless Chromium for the session's browser journeys (starting one costs ~1 s and ~1 s of CPU), reset
before each journey: each starts on a blank tab with no cookies or storage, and leaves no JavaScript error in the
console after its last checked page (checked here, when it ends)."""

from __future__ import annotations

import shutil

import pytest

from tests.web import chromium


@pytest.fixture(scope="session")
def session_chromium():
    driver, profile = chromium.start()
    yield driver
    driver.quit()
    shutil.rmtree(profile, ignore_errors=True)


@pytest.fixture
def browser(session_chromium, request):
    stack = request.getfixturevalue("local") if "local" in request.fixturenames else None
    origins = [stack.api, stack.pay_app] if stack else []
    chromium.forget(session_chromium, origins)
    chromium.console_errors(session_chromium)  # the reset's own navigation: nothing of this journey's
    yield session_chromium
    errors = chromium.console_errors(session_chromium)
    # The page left (nothing of it runs on while other tests do); the rest of the reset (tabs, cookies, storage)
    # is the next journey's setup: once per journey, not twice.
    session_chromium.get("about:blank")
    assert not errors, f"JavaScript console errors after the last checked page: {errors}"
