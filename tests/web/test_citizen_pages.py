"""The citizens' web app in a real headless Chromium on ``make run`` (phone viewport): scan a lane's pay code
and pay through the sandbox payer page to a receipt; find parking and open guidance. Every page is
screenshotted to build/screenshots/, checked with axe-core (no serious or critical violations) and must
leave no JavaScript error in the console. Skips, saying why, where Chromium or chromedriver is missing
(``make test`` installs them as root)."""

from __future__ import annotations

import json
import time
from datetime import datetime, timedelta, timezone
from typing import Callable

import boto3.session
import pytest

from shared import resources, tokens
from shared.auth import Role

from tests.web.chromium import AVAILABLE, MISSING, check_page, idle, paste, until, wait_for  # noqa: F401 (the journeys' helpers)

if AVAILABLE:
    from selenium.common.exceptions import StaleElementReferenceException  # noqa: F401
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select, WebDriverWait  # noqa: F401

pytestmark = pytest.mark.skipif(not AVAILABLE, reason=MISSING)


@pytest.fixture
def local(make_run):
    """The session's ``make run`` (tests/running_stack.py): these journeys keep to their own plates and phones."""
    return make_run


def device(local, command: str, device_id: str, *extra: str) -> None:
    from tools import device_cli

    creds = json.loads((local.workdir / ".local" / "devices.json").read_text())[device_id]
    assert device_cli.main([command, "--device", device_id, f"--secret={creds['secret']}", "--lot", creds["lot_id"],
                            "--api", local.api, *extra]) == 0


def test_scan_a_lane_pay_code_and_pay(local, browser):
    device(local, "entry", "liangxi-lot-02-in1", "--plate", "苏B7K123", "--lane", "in-1", "--ago", "3h")
    device(local, "exit", "liangxi-lot-02-out1", "--plate", "苏B7K123", "--lane", "out-1")
    browser.get(f"{local.api}/v1/pay/liangxi-lot-02?lane=out-1")  # what the printed QR code holds
    assert wait_for(browser, "#due").text == "¥6.00"
    assert browser.find_element(By.ID, "plate").text == "苏B****3"  # masked for whoever holds the code
    assert browser.find_element(By.ID, "lot-name").text.startswith("梁溪区")
    check_page(browser, "1-pay-code-bill")

    browser.find_element(By.ID, "pay-wechat_pay").click()
    wait_for(browser, "#approve")
    assert browser.current_url.startswith(local.pay_app) and "微信支付" in browser.page_source
    check_page(browser, "2-sandbox-payer")

    browser.find_element(By.ID, "approve").click()  # back to the receipt once the callback settled it
    card = wait_for(browser, "#receipt-card", timeout=20)
    assert "¥6.00" in card.text and browser.current_url.startswith(f"{local.api}/web/receipt.html")
    check_page(browser, "3-receipt")

    browser.get(f"{local.api}/v1/pay/liangxi-lot-02?lane=out-1")  # paid: the lane's code has nothing due now
    wait_for(browser, "#nothing-due")


def test_find_parking_and_open_guidance(local, browser):
    browser.get(f"{local.api}/")
    wait_for(browser, "#lots li button")
    # The list renders, then again once the prices are in: read it afresh each time (no stale element).
    first_text = lambda d: d.find_element(By.CSS_SELECTOR, "#lots li button").text  # noqa: E731
    until(browser, lambda d: "空位" in first_text(d) and "米" in first_text(d))
    until(browser, lambda d: "停 1 小时约" in first_text(d))  # the second render: the list stays as it is now
    first = browser.find_element(By.CSS_SELECTOR, "#lots li button")
    assert len(browser.find_elements(By.CSS_SELECTOR, "#map .pin")) == len(browser.find_elements(By.CSS_SELECTOR, "#lots li"))
    check_page(browser, "4-find-parking")

    first.click()
    link = wait_for(browser, "#open-map")
    assert link.get_attribute("href").startswith("https://uri.amap.com/marker?position=")
    check_page(browser, "5-guidance")


def test_the_pages_speak_english_too(local, browser):
    browser.get(f"{local.api}/web/find.html")
    wait_for(browser, "#lots li button")
    browser.find_element(By.ID, "lang").click()
    until(browser, lambda d: "free" in d.find_element(By.CSS_SELECTOR, "#lots li button").text, timeout=5)
    assert browser.find_element(By.CSS_SELECTOR, "header h1").text == "Wuxi Parking"
    assert browser.find_element(By.TAG_NAME, "html").get_attribute("lang") == "en"
    check_page(browser, "6-find-parking-en")
    browser.find_element(By.ID, "lang").click()


def stack_env(local) -> dict[str, str]:
    """A tool's environment on the running stack's embedded AWS (as a local user's shell would set it)."""
    return {**local.env, "AWS_ENDPOINT_URL": f"http://127.0.0.1:{local.aws_port}", "AWS_ACCESS_KEY_ID": "local",
            "AWS_SECRET_ACCESS_KEY": "local", "AWS_DEFAULT_REGION": "us-east-1"}


_MINTED: dict[tuple, str] = {}  # (embedded AWS port, tool arguments) -> the token
_KEYS: dict[int, str] = {}  # embedded AWS port -> the stage's signing key, read from its SSM


def _signing_key(local) -> str:
    """The key ``tools.mint_token`` reads: the stage's admin-token parameter in the running stack's SSM, read
    once per stack with the caller's (local) credentials, as the tool does (``tests/test_tools.py`` runs it)."""
    if local.aws_port not in _KEYS:
        env = stack_env(local)
        # a session of its own: boto3's default one, made here before a later test's moto starts, would escape it
        ssm = boto3.session.Session().client("ssm", endpoint_url=env["AWS_ENDPOINT_URL"],
                                             region_name=env["AWS_DEFAULT_REGION"],
                                             aws_access_key_id="local", aws_secret_access_key="local")
        name = resources.parameter_name(resources.ADMIN_TOKEN_PARAMETER, env.get("TONGTING_STAGE"))
        _KEYS[local.aws_port] = ssm.get_parameter(Name=name, WithDecryption=True)["Parameter"]["Value"]
    return _KEYS[local.aws_port]


def minting(local, *args: str) -> Callable[[], str]:
    """What ``tools.mint_token *args`` prints, minted in this process with the same key and claims (a
    subprocess cost about a second of CPU to import the tool): call the answer for the token. Once per stack
    and claims in the session: staff keep a token for their shift."""
    key = (local.aws_port, args)

    def token() -> str:
        if key not in _MINTED:
            opts = dict(zip(args[::2], args[1::2], strict=True))
            _MINTED[key] = tokens.mint(_signing_key(local), subject=opts["--sub"], role=Role(opts["--role"]),
                                       now=datetime.now(timezone.utc), district_code=opts.get("--district"),
                                       operator_id=opts.get("--operator"), ttl=timedelta(hours=12))
        return _MINTED[key]

    return token


def mint(local, role: str, district: str) -> Callable[[], str]:
    """A district role's token, minted in the background: call the answer when the token is needed."""
    return minting(local, "--role", role, "--district", district, "--sub", "clerk")


def test_district_staff_see_their_district_and_not_another(local, browser):
    liangxi, xinwu = mint(local, "district_admin", "320213"), mint(local, "district_admin", "320214")
    browser.get(f"{local.api}/web/console.html")
    browser.execute_script("sessionStorage.clear()")
    browser.refresh()
    paste(browser, wait_for(browser, "#token"), liangxi())  # Liangxi
    browser.find_element(By.ID, "sign-in").click()
    assert "320213" in wait_for(browser, "#signed-in").text
    wait_for(browser, "#lot-liangxi-lot-01")
    until(browser, lambda d: "空位" in d.find_element(By.CSS_SELECTOR, "#lot-liangxi-lot-01 .status").text)
    lots = [e.get_attribute("id") for e in browser.find_elements(By.CSS_SELECTOR, "#lots > li")]
    assert lots and all(i.startswith("lot-liangxi-") for i in lots), lots  # no Xinwu, no Binhu ...
    assert "xinwu" not in browser.page_source
    wait_for(browser, "#arrears-section")
    wait_for(browser, "#disputes-section")
    check_page(browser, "7-console-liangxi")

    browser.find_element(By.ID, "token").clear()  # answers to Liangxi still on their way are dropped (console.js)
    paste(browser, browser.find_element(By.ID, "token"), xinwu())  # Xinwu
    browser.find_element(By.ID, "sign-in").click()
    until(browser, lambda d: d.find_elements(By.CSS_SELECTOR, "#lot-xinwu-lot-01"))
    assert not browser.find_elements(By.CSS_SELECTOR, "[id^=lot-liangxi-]")
    check_page(browser, "8-console-xinwu")


def sms_code(local, browser, contains: str) -> str:
    """Read the newest code in the local SMS inbox page, in a second tab, as a local user would."""
    import re

    here = browser.current_window_handle
    browser.switch_to.new_window("tab")
    text, deadline = "", time.monotonic() + 15
    while time.monotonic() < deadline:  # the request that texts the code may still be under way (the status line waited on can be an earlier one)
        browser.get(f"{local.pay_app}/sms")
        text = next((li.text for li in browser.find_elements(By.CSS_SELECTOR, "li") if contains in li.text), "")
        if text:
            break
        time.sleep(0.1)
    assert text, f"no text for {contains} in the SMS inbox after 15 s"
    check_page(browser, "sms-inbox")
    browser.close()
    browser.switch_to.window(here)
    return re.search(r"验证码 (\d{6})", text).group(1)


def test_pay_later_register_prove_a_plate_leave_pay_and_dispute(local, browser):
    browser.get(f"{local.api}/web/me.html")
    browser.execute_script("localStorage.removeItem('citizenToken')")
    browser.refresh()
    wait_for(browser, "#phone").send_keys("13800138000")
    browser.find_element(By.ID, "send-code").click()
    wait_for(browser, "#message [role=status]")
    browser.find_element(By.ID, "login-code").send_keys(sms_code(local, browser, "登录验证码"))
    check_page(browser, "9-sign-in")
    browser.find_element(By.ID, "login-submit").click()
    wait_for(browser, "#open-account").click()
    wait_for(browser, "#save-method").click()
    until(browser, lambda d: d.find_element(By.ID, "method").text == "已绑定支付方式", timeout=10)

    wait_for(browser, "#plate-input").send_keys("苏B9P888")
    browser.find_element(By.ID, "add-plate-submit").click()
    wait_for(browser, "#message [role=status]")
    browser.find_element(By.ID, "plate-code").send_keys(sms_code(local, browser, "苏B9P888"))
    browser.find_element(By.ID, "verify-plate").click()
    until(browser, lambda d: "苏B9P888" in d.find_element(By.ID, "plates").text, timeout=10)
    assert browser.find_element(By.ID, "account-status").text == "active"
    check_page(browser, "10-pay-later-account")

    device(local, "entry", "liangxi-lot-04-in1", "--plate", "苏B9P888", "--lane", "in-1", "--ago", "3h")
    device(local, "exit", "liangxi-lot-04-out1", "--plate", "苏B9P888", "--lane", "out-1")  # the gate opens: pay later
    pay, deadline = None, time.monotonic() + 20
    while pay is None and time.monotonic() < deadline:  # the billing workflow prices the stay and posts the notice
        browser.refresh()
        wait_for(browser, "#bills li")  # the page renders its bills after the account card (the notices): all in
        found = browser.find_elements(By.CSS_SELECTOR, "#bills button[id^=pay-]")
        if found and "梁溪区停车场4" in browser.find_element(By.ID, "notices").text:
            pay = found[0]
        else:
            time.sleep(0.2)
    assert pay is not None, browser.find_element(By.ID, "account").text
    assert "¥6.00" in pay.text
    assert "梁溪区停车场4" in browser.find_element(By.ID, "notices").text  # the notice names the lot
    check_page(browser, "11-my-bills")
    pay.click()
    wait_for(browser, "#approve").click()
    assert "¥6.00" in wait_for(browser, "#receipt-card", timeout=20).text

    browser.get(f"{local.api}/web/me.html")
    bill = wait_for(browser, "#bills li.bill")
    assert not browser.find_elements(By.CSS_SELECTOR, "#bills button[id^=pay-]")  # paid
    bill_id = bill.get_attribute("id").removeprefix("bill-")
    Select(browser.find_element(By.ID, f"reason-{bill_id}")).select_by_value("missed_exit")
    browser.find_element(By.ID, f"detail-{bill_id}").send_keys("我 9 点就离开了")
    browser.find_element(By.ID, f"dispute-{bill_id}").click()
    until(browser, lambda d: "disputed" in d.find_element(By.CSS_SELECTOR, "#bills li.bill").text, timeout=10)
    check_page(browser, "12-disputed")
