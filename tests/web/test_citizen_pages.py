"""The citizens' web app in a real headless Chromium on ``make run`` (phone viewport): scan a lane's pay code
and pay through the sandbox payer page to a receipt; find parking and open guidance. Every page is
screenshotted to build/screenshots/, checked with axe-core (no serious or critical violations) and must
leave no JavaScript error in the console. Skips, saying why, where Chromium or chromedriver is missing
(``make test`` installs them as root)."""

from __future__ import annotations

import json
import shutil
import tempfile
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


@pytest.fixture(scope="module")
def local(tmp_path_factory):
    stack = running_stack.start(tmp_path_factory.mktemp("make-run"))
    yield stack
    stack.stop()


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
    errors = [e for e in driver.get_log("browser") if e["level"] == "SEVERE"]
    assert not errors, f"{name}: JavaScript console errors {errors}"


def device(local, command: str, device_id: str, *extra: str) -> None:
    from tools import device_cli

    creds = json.loads((local.workdir / ".local" / "devices.json").read_text())[device_id]
    assert device_cli.main([command, "--device", device_id, "--secret", creds["secret"], "--lot", creds["lot_id"],
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
    first = wait_for(browser, "#lots li button")
    assert "空位" in first.text and "米" in first.text
    WebDriverWait(browser, 15).until(lambda d: "停 1 小时约" in d.find_element(By.CSS_SELECTOR, "#lots li button").text)
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
    WebDriverWait(browser, 5).until(lambda d: "free" in d.find_element(By.CSS_SELECTOR, "#lots li button").text)
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
