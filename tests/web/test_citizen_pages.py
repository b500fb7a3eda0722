"""The citizens' web app in a real headless Chromium on ``make run`` (phone viewport): scan a lane's pay code
and pay through the sandbox payer page to a receipt; find parking and open guidance. Every page is
screenshotted to build/screenshots/, checked with axe-core (no serious or critical violations) and must
leave no JavaScript error in the console. Skips, saying why, where Chromium or chromedriver is missing
(``make test`` installs them as root)."""

from __future__ import annotations

import json
import shutil
import tempfile
import time
from pathlib import Path

import pytest

from tests import running_stack

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
DRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"
SHOTS = running_stack.REPO / "build" / "screenshots"

try:
    from axe_selenium_python import Axe
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    from selenium.common.exceptions import StaleElementReferenceException
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as EC
    from selenium.webdriver.support.ui import WebDriverWait
except ImportError:  # pragma: no cover - the test extra installs them
    webdriver = None

pytestmark = pytest.mark.skipif(
    webdriver is None or not Path(CHROMIUM).exists() or not Path(DRIVER).exists(),
    reason="browser tests need selenium + axe-selenium-python (test extra) and Debian's chromium and "
           "chromium-driver (make test apt-installs them when run as root)",
)


@pytest.fixture
def local(make_run):
    """The session's ``make run`` (tests/running_stack.py): these journeys keep to their own plates and phones."""
    return make_run


@pytest.fixture(scope="module")
def browser():
    profile = tempfile.mkdtemp(prefix="tongting-chromium-")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-dev-shm-usage",
                f"--user-data-dir={profile}", "--window-size=390,844", "--lang=zh-CN"):
        options.add_argument(arg)
    options.add_experimental_option("mobileEmulation", {"deviceMetrics": {"width": 390, "height": 844, "pixelRatio": 2}})
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(DRIVER), options=options)
    driver.set_page_load_timeout(30)
    SHOTS.mkdir(parents=True, exist_ok=True)
    yield driver
    driver.quit()
    shutil.rmtree(profile, ignore_errors=True)


def wait_for(driver, css: str, timeout: float = 15):
    return WebDriverWait(driver, timeout).until(EC.visibility_of_element_located((By.CSS_SELECTOR, css)))


def check_page(driver, name: str) -> None:
    """Screenshot, no serious accessibility violation, no JavaScript error in the console."""
    driver.save_screenshot(str(SHOTS / f"{name}.png"))
    axe = Axe(driver)
    axe.inject()
    results = axe.run()
    serious = [(v["id"], v["help"], [n["target"] for n in v["nodes"]][:3]) for v in results["violations"]
               if v.get("impact") in ("serious", "critical")]
    assert not serious, f"{name}: {serious}"
    # JavaScript errors fail; a refused fetch the page handles (e.g. "no account yet", 404) is network noise.
    errors = [e for e in driver.get_log("browser") if e["level"] == "SEVERE" and e.get("source") != "network"]
    assert not errors, f"{name}: JavaScript console errors {errors}"


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
    wait = WebDriverWait(browser, 15, ignored_exceptions=(StaleElementReferenceException,))
    wait.until(lambda d: "空位" in first_text(d) and "米" in first_text(d))
    wait.until(lambda d: "停 1 小时约" in first_text(d))  # the second render: the list stays as it is now
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
    WebDriverWait(browser, 5, ignored_exceptions=(StaleElementReferenceException,)).until(
        lambda d: "free" in d.find_element(By.CSS_SELECTOR, "#lots li button").text)
    assert browser.find_element(By.CSS_SELECTOR, "header h1").text == "Wuxi Parking"
    assert browser.find_element(By.TAG_NAME, "html").get_attribute("lang") == "en"
    check_page(browser, "6-find-parking-en")
    browser.find_element(By.ID, "lang").click()


def mint(local, role: str, district: str) -> str:
    import subprocess
    import sys

    env = {**local.env, "AWS_ENDPOINT_URL": f"http://127.0.0.1:{local.aws_port}", "AWS_ACCESS_KEY_ID": "local",
           "AWS_SECRET_ACCESS_KEY": "local", "AWS_DEFAULT_REGION": "us-east-1"}
    out = subprocess.run([sys.executable, "-m", "tools.mint_token", "--role", role, "--district", district, "--sub", "clerk"],
                         cwd=local.workdir, env=env, capture_output=True, text=True, timeout=60, check=True)
    return out.stdout.strip()


def test_district_staff_see_their_district_and_not_another(local, browser):
    browser.get(f"{local.api}/web/console.html")
    browser.execute_script("sessionStorage.clear()")
    browser.refresh()
    wait_for(browser, "#token").send_keys(mint(local, "district_admin", "320213"))  # Liangxi
    browser.find_element(By.ID, "sign-in").click()
    assert "320213" in wait_for(browser, "#signed-in").text
    wait_for(browser, "#lot-liangxi-lot-01")
    WebDriverWait(browser, 15).until(lambda d: "空位" in d.find_element(By.CSS_SELECTOR, "#lot-liangxi-lot-01 .status").text)
    lots = [e.get_attribute("id") for e in browser.find_elements(By.CSS_SELECTOR, "#lots > li")]
    assert lots and all(i.startswith("lot-liangxi-") for i in lots), lots  # no Xinwu, no Binhu ...
    assert "xinwu" not in browser.page_source
    wait_for(browser, "#arrears-section")
    wait_for(browser, "#disputes-section")
    check_page(browser, "7-console-liangxi")

    browser.find_element(By.ID, "token").clear()
    browser.find_element(By.ID, "token").send_keys(mint(local, "district_admin", "320214"))  # Xinwu
    browser.find_element(By.ID, "sign-in").click()
    WebDriverWait(browser, 15).until(lambda d: d.find_elements(By.CSS_SELECTOR, "#lot-xinwu-lot-01"))
    assert not browser.find_elements(By.CSS_SELECTOR, "[id^=lot-liangxi-]")
    check_page(browser, "8-console-xinwu")


def sms_code(local, browser, contains: str) -> str:
    """Read the newest code in the local SMS inbox page, in a second tab, as a local user would."""
    import re

    here = browser.current_window_handle
    browser.switch_to.new_window("tab")
    text = ""
    for _ in range(30):  # the request that texts the code may still be under way (the status line waited on can be an earlier one)
        browser.get(f"{local.pay_app}/sms")
        text = next((li.text for li in browser.find_elements(By.CSS_SELECTOR, "li") if contains in li.text), "")
        if text:
            break
        time.sleep(0.5)
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
    WebDriverWait(browser, 10).until(lambda d: d.find_element(By.ID, "method").text == "已绑定支付方式")

    wait_for(browser, "#plate-input").send_keys("苏B9P888")
    browser.find_element(By.ID, "add-plate-submit").click()
    wait_for(browser, "#message [role=status]")
    browser.find_element(By.ID, "plate-code").send_keys(sms_code(local, browser, "苏B9P888"))
    browser.find_element(By.ID, "verify-plate").click()
    WebDriverWait(browser, 10).until(lambda d: "苏B9P888" in d.find_element(By.ID, "plates").text)
    assert browser.find_element(By.ID, "account-status").text == "active"
    check_page(browser, "10-pay-later-account")

    device(local, "entry", "liangxi-lot-04-in1", "--plate", "苏B9P888", "--lane", "in-1", "--ago", "3h")
    device(local, "exit", "liangxi-lot-04-out1", "--plate", "苏B9P888", "--lane", "out-1")  # the gate opens: pay later
    import time

    pay = None
    for _ in range(20):  # the billing workflow prices the stay and posts the notice
        browser.refresh()
        wait_for(browser, "#bills li")
        time.sleep(0.5)
        found = browser.find_elements(By.CSS_SELECTOR, "#bills button[id^=pay-]")
        if found and "梁溪区停车场4" in browser.find_element(By.ID, "notices").text:
            pay = found[0]
            break
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
    from selenium.webdriver.support.ui import Select

    Select(browser.find_element(By.ID, f"reason-{bill_id}")).select_by_value("missed_exit")
    browser.find_element(By.ID, f"detail-{bill_id}").send_keys("我 9 点就离开了")
    browser.find_element(By.ID, f"dispute-{bill_id}").click()
    WebDriverWait(browser, 10).until(lambda d: "disputed" in d.find_element(By.CSS_SELECTOR, "#bills li.bill").text)
    check_page(browser, "12-disputed")
