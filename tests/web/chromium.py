"""The browser tests' plumbing: Debian's headless Chromium through chromedriver (phone viewport), waits that
re-check a condition each time the page changes until it holds, and the check every page gets (screenshot,
axe-core, console).

A wait re-reads the page each time, so an element the page re-rendered meanwhile is looked up afresh rather
than failing stale: the condition is "the page shows X", however many renders it takes to get there. Between
two looks the wait sleeps IN the page until the page changes (a DOM mutation, a fetch starting or ending) or
``LOOK_AGAIN_S`` passes, in one WebDriver round trip: polling every 50 ms from here cost Chromium and
chromedriver ~0.1 s of CPU per second of waiting (each look is HTTP to chromedriver, CDP messages and a
renderer evaluation)."""

from __future__ import annotations

import functools
import shutil
import tempfile
import time
from pathlib import Path

from tests import running_stack

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
DRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"
SHOTS = running_stack.REPO / "build" / "screenshots"
LOOK_AGAIN_S = 0.3  # a wait's next look when the page has not changed (e.g. a style sheet that loaded)

try:
    from axe_selenium_python import Axe
    from selenium import webdriver
    from selenium.common.exceptions import (JavascriptException, NoSuchElementException,
                                            StaleElementReferenceException, TimeoutException)
    from selenium.webdriver.chrome.service import Service
except ImportError:  # pragma: no cover - the test extra installs them
    webdriver = None

AVAILABLE = webdriver is not None and Path(CHROMIUM).exists() and Path(DRIVER).exists()
MISSING = ("browser tests need selenium + axe-selenium-python (test extra) and Debian's chromium and "
           "chromium-driver (make test apt-installs them when run as root)")


# Every page counts its fetches under way (``idle`` reads it) and its changes (``until`` sleeps until the next
# one): a DOM mutation or a fetch starting or ending; the page's own code is untouched.
_COUNT_FETCHES = """(() => { let busy = 0, changes = 0; const fetch = window.fetch, waiting = [];
  const changed = () => { changes++; waiting.splice(0).forEach((wake) => wake()); };
  window.__fetchesUnderWay = () => busy;
  window.__changes = () => changes;
  window.__onChange = (wake) => waiting.push(wake);
  new MutationObserver(changed).observe(document, {subtree: true, childList: true, attributes: true, characterData: true});
  window.fetch = function (...args) {
    busy++; changed();
    return fetch.apply(this, args).finally(() => { busy--; changed(); }); }; })();"""

# Until the page's change count differs from ``seen`` or ``ms`` pass: the count now (-1: a page without it).
# ``seen`` null (the first look failed, the count before it unknown): until the next change, or 50 ms at most
# (a change between that look and this wait is not missed for longer than the old polling's period).
_NEXT_CHANGE = """const [seen, ms, done] = arguments;
  const now = () => (window.__changes ? window.__changes() : -1);
  const wait = seen === null ? Math.min(ms, 50) : ms;
  if ((seen !== null && now() !== seen) || !window.__onChange) { setTimeout(() => done(now()), seen !== null && now() !== seen ? 0 : wait); return; }
  const timer = setTimeout(() => done(now()), wait);
  window.__onChange(() => { clearTimeout(timer); done(now()); });"""

# ``idle``'s looks, in the page: every 50 ms, until no fetch has been under way for ``quietMs`` (true) or
# ``timeoutMs`` passed (false).
_IDLE = """const [quietMs, timeoutMs, done] = arguments;
  const busy = () => (window.__fetchesUnderWay ? window.__fetchesUnderWay() : 0);
  const start = performance.now();
  let since = null;
  (function look() {
    const t = performance.now();
    if (busy()) since = null; else if (since === null) since = t; else if (t - since >= quietMs) return done(true);
    if (t - start >= timeoutMs) return done(false);
    setTimeout(look, 50);
  })();"""


def start() -> tuple[object, str]:
    """A fresh headless Chromium and its profile directory (the caller quits it and removes the directory)."""
    profile = tempfile.mkdtemp(prefix="tongting-chromium-")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-dev-shm-usage",
                f"--user-data-dir={profile}", "--window-size=390,844", "--lang=zh-CN"):
        options.add_argument(arg)
    options.add_experimental_option("mobileEmulation", {"deviceMetrics": {"width": 390, "height": 844, "pixelRatio": 1}})
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(DRIVER), options=options)
    driver.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": _COUNT_FETCHES})
    driver.set_page_load_timeout(30)
    driver.set_script_timeout(120)  # above every wait's own timeout: the waits run in the page
    SHOTS.mkdir(parents=True, exist_ok=True)
    return driver, profile


def forget(driver, origins: list[str]) -> None:
    """Back to a blank tab with no cookies and nothing stored for ``origins``: the next journey starts as a
    fresh browser would (the one Chromium of the session serves every journey)."""
    handles = driver.window_handles
    for handle in handles[1:]:
        driver.switch_to.window(handle)
        driver.close()
    driver.switch_to.window(handles[0])
    driver.get("about:blank")
    driver.delete_all_cookies()
    for origin in origins:
        driver.execute_cdp_cmd("Storage.clearDataForOrigin", {"origin": origin, "storageTypes": "all"})


def _next_change(driver, seen: int | None, timeout_s: float) -> int:
    """Sleep in the page until it changes after ``seen`` (its change count; None: from now, 50 ms at most) or
    ``timeout_s`` passes; the count now. A navigation meanwhile ends the sleep (the new document is a change)."""
    try:
        return driver.execute_async_script(_NEXT_CHANGE, seen, max(1, round(timeout_s * 1000)))
    except (JavascriptException, TimeoutException):  # a navigation: "document unloaded while waiting
        return -2  # for result", or, to another origin, "script timeout" at once


def until(driver, condition, timeout: float = 15, message: str = ""):
    """``condition(driver)``'s first truthy answer, looking again whenever the page changes (at the latest
    after ``LOOK_AGAIN_S``); an element re-rendered between the look-up and the read, or not there yet, is
    looked up again. As selenium's ``WebDriverWait(...).until``: a ``TimeoutException`` after ``timeout``."""
    screen = stacktrace = None
    end_time = time.monotonic() + timeout
    seen = None  # most conditions hold at the first look: no round trip before it
    while True:
        try:
            value = condition(driver)
            if value:
                return value
        except (NoSuchElementException, StaleElementReferenceException) as exc:
            screen, stacktrace = getattr(exc, "screen", None), getattr(exc, "stacktrace", None)
        left = end_time - time.monotonic()
        if left < 0:
            break
        seen = _next_change(driver, seen, min(LOOK_AGAIN_S, left + 0.01))
    raise TimeoutException(message, screen, stacktrace)


def idle(driver, quiet_s: float = 0.2, timeout: float = 30) -> None:
    """Until the page has had no fetch under way for ``quiet_s``: what it asked for is in and rendered, so
    no late answer to an earlier view lands after this (e.g. before signing in with another token). The
    looks (every 50 ms) run in the page."""
    deadline = time.monotonic() + timeout
    while (left := deadline - time.monotonic()) > 0:
        try:
            if driver.execute_async_script(_IDLE, round(quiet_s * 1000), round(left * 1000)):
                return
        except (JavascriptException, TimeoutException):  # a navigation meanwhile (see ``_next_change``):
            continue  # the new page's fetches from here
    raise AssertionError(f"the page still fetching after {timeout} s")


# ``wait_for``'s looks, in the page: the first element ``css`` selects (as chromedriver's find does:
# querySelector), once selenium's own visibility atom (what ``is_displayed`` runs) says it is shown; null if
# none is by ``ms``. Looks again on each change of the page (``_COUNT_FETCHES``), at the latest every ``againMs``
# (``LOOK_AGAIN_S``, as ``until``).
_WAIT_VISIBLE = """const [css, ms, againMs, done] = arguments;
  const shown = (%s);
  const look = () => { const el = document.querySelector(css); return el && shown(el) ? el : null; };
  const end = performance.now() + ms;
  let turn = 0;
  (function again() {
    const mine = ++turn, el = look(), left = end - performance.now();
    if (el || left <= 0) return done(el);
    const timer = setTimeout(() => mine === turn && again(), Math.min(left, againMs));
    if (window.__onChange) window.__onChange(() => { if (mine === turn) { clearTimeout(timer); again(); } });
  })();"""


@functools.cache
def _wait_visible_script() -> str:
    import pkgutil

    return _WAIT_VISIBLE % pkgutil.get_data("selenium.webdriver.remote", "isDisplayed.js").decode("utf8")


def wait_for(driver, css: str, timeout: float = 15):
    """The first element ``css`` selects once it is visible (``EC.visibility_of_element_located``'s answer),
    the looks in the page: one WebDriver round trip where each look took two (find, then is_displayed). As
    ``until``: a ``TimeoutException`` after ``timeout``."""
    end_time = time.monotonic() + timeout
    while True:
        left = end_time - time.monotonic()
        try:
            element = driver.execute_async_script(_wait_visible_script(), css, max(1, round(left * 1000)),
                                                   round(LOOK_AGAIN_S * 1000))
        except JavascriptException as exc:
            if "unloaded" not in str(exc):
                raise  # e.g. a selector querySelector refuses, as find_element would
            element = None  # a navigation meanwhile: look again on the new page
        except TimeoutException:  # to another origin (``_next_change``)
            element = None
        if element:
            return element
        if time.monotonic() > end_time:
            raise TimeoutException("", None, None)


def paste(driver, element, text: str) -> None:
    """``text`` into ``element`` as a paste puts it (all at once, one input event), e.g. a staff token from
    ``tools.mint_token``'s output: typing its few hundred characters one key at a time took ~0.3 s a token."""
    driver.execute_script("const [field, text] = arguments; field.focus(); field.value = text;"
                          "field.dispatchEvent(new Event('input', {bubbles: true}));"
                          "field.dispatchEvent(new Event('change', {bubbles: true}));", element, text)


def console_errors(driver) -> list[dict]:
    """The JavaScript errors logged since the last read; a refused fetch the page handles (e.g. "no account
    yet", 404) is network noise."""
    return [e for e in driver.get_log("browser") if e["level"] == "SEVERE" and e.get("source") != "network"]


@functools.cache
def _axe_source() -> str:
    return Path(Axe(None).script_url).read_text(encoding="utf8")


def axe_violations(driver) -> list[dict]:
    """axe-core's violations on the page as it is now (every rule axe-selenium-python's ``Axe.run`` runs):
    axe is injected once per document (a page checked twice keeps it), and only the violations come back
    over the wire, not the passes and inapplicable rules we never read."""
    if not driver.execute_script("return typeof window.axe !== 'undefined'"):
        driver.execute_script(_axe_source())
    out = driver.execute_async_script("const done = arguments[arguments.length - 1];"
                                      "axe.run({resultTypes: ['violations']}).then((r) => done({violations: r.violations}),"
                                      " (e) => done({error: String(e)}));")
    assert "error" not in out, out
    return out["violations"]


def check_page(driver, name: str) -> None:
    """Screenshot, no serious accessibility violation, no JavaScript error in the console."""
    driver.save_screenshot(str(SHOTS / f"{name}.png"))
    serious = [(v["id"], v["help"], [n["target"] for n in v["nodes"]][:3]) for v in axe_violations(driver)
               if v.get("impact") in ("serious", "critical")]
    assert not serious, f"{name}: {serious}"
    errors = console_errors(driver)
    assert not errors, f"{name}: JavaScript console errors {errors}"
