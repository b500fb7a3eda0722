"""More journeys of issue 14 in the real headless Chromium, on the session's ``make run`` stack: a citizen
pays two unpaid bills with one payment; a citizen books a hospital slot, applies for shared parking and opens a
hotline ticket; district staff decide a dispute in the console. Screenshots, axe and console checks as in
``test_citizen_pages``."""

from __future__ import annotations

import subprocess
import sys
import time
from datetime import datetime, timedelta
from typing import Callable

from shared.clock import SHANGHAI

from tests.web.test_citizen_pages import By, Select, check_page, device, local, mint, minting, pytestmark  # noqa: F401
from tests.web.test_citizen_pages import idle, paste, sms_code, stack_env, until, wait_for

PHONE, PLATE = "13900139000", "苏B5T321"


def sign_in(local, browser, phone: str) -> None:
    browser.get(f"{local.api}/web/me.html")
    browser.execute_script("localStorage.removeItem('citizenToken')")
    browser.refresh()
    wait_for(browser, "#phone").send_keys(phone)
    browser.find_element(By.ID, "send-code").click()
    wait_for(browser, "#message [role=status]")
    browser.find_element(By.ID, "login-code").send_keys(sms_code(local, browser, "登录验证码"))
    browser.find_element(By.ID, "login-submit").click()


def prove_plate(local, browser, plate: str) -> None:
    wait_for(browser, "#open-account").click()
    wait_for(browser, "#account-status")  # the account is open and its card re-rendered: the form below stays put
    wait_for(browser, "#plate-input").send_keys(plate)
    browser.find_element(By.ID, "add-plate-submit").click()
    wait_for(browser, "#message [role=status]")
    browser.find_element(By.ID, "plate-code").send_keys(sms_code(local, browser, plate))
    browser.find_element(By.ID, "verify-plate").click()
    until(browser, lambda d: plate in d.find_element(By.ID, "plates").text, timeout=10)


def test_pay_two_unpaid_bills_with_one_payment(local, browser):
    sign_in(local, browser, PHONE)
    prove_plate(local, browser, PLATE)  # no saved method: the exits below leave bills due
    for ago_in, ago_out in (("5h", "4h"), ("3h", "1h")):
        device(local, "entry", "liangxi-lot-01-in1", "--plate", PLATE, "--lane", "in-1", "--ago", ago_in)
        device(local, "exit", "liangxi-lot-01-out1", "--plate", PLATE, "--lane", "out-1", "--ago", ago_out)
    browser.refresh()
    until(browser, lambda d: len(d.find_elements(By.CSS_SELECTOR, "#bills input.choose")) == 2)
    button = browser.find_element(By.ID, "pay-together")
    assert not button.is_enabled()
    dues = []
    for box in browser.find_elements(By.CSS_SELECTOR, "#bills input.choose"):
        box.click()
        bill = box.find_element(By.XPATH, "./ancestor::li")
        dues.append(bill.find_element(By.CSS_SELECTOR, "button[id^=pay-]").text.split("¥")[1])
    total = sum(round(float(d) * 100) for d in dues)
    assert button.is_enabled() and f"¥{total / 100:.2f}" in button.text and "2 笔" in button.text
    check_page(browser, "13-pay-together")

    button.click()
    wait_for(browser, "#approve")
    check_page(browser, "14-pay-together-payer")
    browser.find_element(By.ID, "approve").click()
    card = wait_for(browser, "#receipt-card", timeout=20)
    assert f"¥{total / 100:.2f}" in card.text and browser.find_element(By.ID, "bills-paid").text == "2"
    check_page(browser, "15-pay-together-receipt")

    browser.get(f"{local.api}/web/me.html")
    wait_for(browser, "#bills li.bill")
    assert not browser.find_elements(By.CSS_SELECTOR, "#bills button[id^=pay-]")  # both settled by the one payment
    assert browser.find_element(By.ID, "together").get_attribute("hidden") is not None

    # One of them is disputed, for the staff journey below to decide.
    bill_id = browser.find_element(By.CSS_SELECTOR, "#bills li.bill").get_attribute("id").removeprefix("bill-")
    Select(browser.find_element(By.ID, f"reason-{bill_id}")).select_by_value("missed_exit")
    browser.find_element(By.ID, f"detail-{bill_id}").send_keys("我提前离场了")
    browser.find_element(By.ID, f"dispute-{bill_id}").click()
    until(browser, lambda d: "disputed" in d.find_element(By.ID, f"bill-{bill_id}").text, timeout=10)


def settled(browser) -> None:
    """Every lot's status and devices are in (the list above the forms stops growing: no tap lands elsewhere)."""
    until(browser, lambda d: len(d.find_elements(By.CSS_SELECTOR, "#lots ul.devices"))
          == min(20, len(d.find_elements(By.CSS_SELECTOR, "#lots > li"))), timeout=60)


def mint_auditor(local, *claims: str) -> Callable[[], str]:
    """An auditor's token (no district), or with ``claims`` another role's, e.g. "--role", "operator", ...,
    minted in the background: call the answer when the token is needed."""
    return minting(local, *(claims or ("--role", "auditor")), "--sub", "audit")


def _post(local, path: str, token: str, data: dict) -> dict:
    import json
    import urllib.request

    req = urllib.request.Request(f"{local.api}{path}", data=json.dumps(data).encode(), method="POST",
                                 headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=30) as resp:
        return json.loads(resp.read())


def test_book_a_hospital_slot_apply_for_sharing_and_follow_a_ticket(local, browser):
    plate = "苏B6H777"
    staff = mint(local, "district_admin", "320213")  # for the district's answer to the ticket below
    sign_in(local, browser, "13700137000")
    prove_plate(local, browser, plate)
    tomorrow = (datetime.now(SHANGHAI) + timedelta(days=1)).date().isoformat()
    browser.get(f"{local.api}/web/services.html?lot=liangxi-hospital-01&offer=binhu-office-nights&date={tomorrow}")
    until(browser, lambda d: d.find_elements(By.CSS_SELECTOR, f"#book-plate option[value='{plate}']"))
    browser.find_element(By.ID, "show-slots").click()
    until(browser, lambda d: len(d.find_elements(By.CSS_SELECTOR, "#book-slot option")) > 3)
    Select(browser.find_element(By.ID, "book-slot")).select_by_index(3)
    browser.find_element(By.ID, "book-submit").click()
    booking = wait_for(browser, "#bookings li[id^=booking-]")
    assert plate in booking.text and "booked" in booking.text
    check_page(browser, "16-hospital-booked")
    booking.find_element(By.CSS_SELECTOR, "button[id^=cancel-]").click()
    until(browser, lambda d: "cancelled" in d.find_element(By.CSS_SELECTOR, "#bookings li[id^=booking-]").text, timeout=10)

    browser.find_element(By.ID, "show-offer").click()
    assert "政务中心" in wait_for(browser, "#offer-text").text
    browser.find_element(By.ID, "apply-submit").click()
    application = wait_for(browser, "#applications li[id^=application-]")
    assert plate in application.text and "pending" in application.text

    Select(browser.find_element(By.ID, "ticket-category")).select_by_value("wrong_charge")
    browser.find_element(By.ID, "ticket-lot").send_keys("liangxi-hospital-01")
    browser.find_element(By.ID, "ticket-text").send_keys("预约停车仍被收费")
    browser.find_element(By.ID, "ticket-submit").click()
    ticket = wait_for(browser, "#tickets li[id^=ticket-]")
    assert "open" in ticket.text
    check_page(browser, "17-services")

    ticket_id = ticket.get_attribute("id").removeprefix("ticket-")  # the district answers it
    _post(local, f"/v1/admin/hotline/tickets/{ticket_id}/resolve", staff(), {"resolution": "已核实，费用退回"})
    browser.refresh()
    wait_for(browser, f"#confirm-{ticket_id}").click()
    until(browser, lambda d: "closed" in d.find_element(By.ID, f"ticket-{ticket_id}").text, timeout=10)
    check_page(browser, "18-ticket-closed")


def test_district_staff_register_a_device_and_decide_a_dispute_in_the_console(local, browser):
    staff, auditor = mint(local, "district_admin", "320213"), mint_auditor(local)
    operator = mint_auditor(local, "--role", "operator", "--operator", "liangxi-gov-parking")
    browser.get(f"{local.api}/web/console.html")
    browser.execute_script("sessionStorage.clear()")
    browser.refresh()
    paste(browser, wait_for(browser, "#token"), staff())
    browser.find_element(By.ID, "sign-in").click()
    wait_for(browser, "#register-device")
    settled(browser)
    lots = [o.get_attribute("value") for o in browser.find_elements(By.CSS_SELECTOR, "#device-lot option")]
    assert lots and all(lot.startswith("liangxi-") for lot in lots), lots  # only this district's lots to register in
    Select(browser.find_element(By.ID, "device-lot")).select_by_value("liangxi-lot-01")
    browser.find_element(By.ID, "device-id").send_keys("liangxi-lot-01-in9")
    Select(browser.find_element(By.ID, "device-kind")).select_by_value("gate_camera")
    browser.find_element(By.ID, "device-lane").send_keys("in-9")
    browser.find_element(By.ID, "register-submit").click()
    until(browser, lambda d: d.find_element(By.ID, "register-result").text, timeout=30)
    assert browser.find_elements(By.ID, "device-secret"), browser.find_element(By.ID, "register-result").text
    assert len(browser.find_element(By.ID, "device-secret").text) >= 32  # shown once
    assert "liangxi-lot-01-in9" in browser.find_element(By.ID, "registered").text
    assert "尚未上报" in wait_for(browser, "#device-liangxi-lot-01-in9", timeout=60).text
    check_page(browser, "19-console-device-registered")

    settled(browser)
    form = wait_for(browser, "#disputes form.decide")  # the citizen's dispute from the first journey
    bill_id = form.find_element(By.CSS_SELECTOR, "select").get_attribute("id").removeprefix("decision-")
    Select(browser.find_element(By.ID, f"decision-{bill_id}")).select_by_value("upheld")
    browser.find_element(By.ID, f"fair-{bill_id}").send_keys("100")
    browser.find_element(By.ID, f"note-{bill_id}").send_keys("出口记录缺失，按 1 元计")
    check_page(browser, "20-console-dispute")
    browser.find_element(By.ID, f"decide-{bill_id}").click()
    until(browser, lambda d: "upheld" in d.find_element(By.ID, f"dispute-{bill_id}").text, timeout=10)

    # signed in again at once: answers to the staff still on their way are dropped (console.js)
    browser.find_element(By.ID, "token").clear()  # an auditor reads but is offered no form
    paste(browser, browser.find_element(By.ID, "token"), auditor())
    browser.find_element(By.ID, "sign-in").click()
    until(browser, lambda d: "auditor" in d.find_element(By.ID, "signed-in").text)
    wait_for(browser, "#disputes-section")
    idle(browser)
    assert browser.find_element(By.ID, "register-section").get_attribute("hidden") is not None
    # The lists re-render once the auditor's answers are in (the district's still-open cases and disputes
    # of other journeys keep their forms until then), and then offer no form.
    until(browser, lambda d: not d.find_elements(By.CSS_SELECTOR, "form.decide, form.contact"))

    browser.find_element(By.ID, "token").clear()  # an operator: its own settlements, no registry or dispute forms
    paste(browser, browser.find_element(By.ID, "token"), operator())
    browser.find_element(By.ID, "sign-in").click()
    until(browser, lambda d: "operator" in d.find_element(By.ID, "signed-in").text)
    wait_for(browser, "#settlements-section")
    idle(browser)
    assert browser.find_element(By.ID, "disputes-section").get_attribute("hidden") is not None  # the API refuses it
    assert browser.find_element(By.ID, "register-section").get_attribute("hidden") is not None
    check_page(browser, "21-console-operator")


def test_a_late_answer_to_the_previous_token_never_shows_in_the_console(local, browser):
    """District staff sign in and, before their answers are in (every answer 300 ms late), an auditor signs in
    on the same console: none of the staff's answers lands in the auditor's view (the register form stays
    hidden). The console drops answers to an earlier sign-in (``generation`` in console.js)."""
    staff, auditor = mint(local, "district_admin", "320213"), mint_auditor(local)
    staff_token, auditor_token = staff(), auditor()
    browser.get(f"{local.api}/web/console.html")
    browser.execute_script("sessionStorage.clear()")
    browser.refresh()
    token = wait_for(browser, "#token")
    browser.execute_cdp_cmd("Network.enable", {})
    slow = {"offline": False, "latency": 300, "downloadThroughput": -1, "uploadThroughput": -1}
    browser.execute_cdp_cmd("Network.emulateNetworkConditions", slow)
    try:
        paste(browser, token, staff_token)
        browser.find_element(By.ID, "sign-in").click()
        paste(browser, token, auditor_token)
        browser.find_element(By.ID, "sign-in").click()
        until(browser, lambda d: "auditor" in d.find_element(By.ID, "signed-in").text)
        time.sleep(0.8)  # the staff's first answers (asked before the switch, 300 ms late) arrive meanwhile
    finally:
        browser.execute_cdp_cmd("Network.emulateNetworkConditions", {**slow, "latency": 0})
    idle(browser)
    assert browser.find_element(By.ID, "register-section").get_attribute("hidden") is not None
    assert not browser.find_elements(By.CSS_SELECTOR, "form.decide, form.contact")

def _bills_in_the_stack(local, plate: str, n: int) -> Callable[[], None]:
    """``n`` bills of ``plate`` stored in the running stack's tables (a citizen with a long history), by a
    process that starts now (~2 s of imports, in the background) and writes when the answer is called (which
    waits until they are stored)."""
    script = (
        "import sys\nfrom datetime import datetime, timedelta, timezone\n"
        "from shared.bootstrap import dynamo_stores\nfrom shared.bills.model import Bill\nfrom shared.payments.ports import Change\n"
        "money = dynamo_stores().money\nsys.stdin.readline()\nnow = datetime.now(timezone.utc)\n"
        "for i in range(int(sys.argv[2])):\n"
        "    assert money.commit(Change(bills=[Bill(bill_id=f'bill_history_{i:03d}', session_id=f's-history-{i}', "
        "lot_id='liangxi-lot-01', operator_id='op', district_code='320213', plate=sys.argv[1], plate_colour='blue', "
        "vehicle_class='small', amount_fen=300 + i, paid_fen=300 + i, created_at=now + timedelta(seconds=i))]))\n"
    )
    writer = subprocess.Popen([sys.executable, "-c", script, plate, str(n)], cwd=local.workdir, env=stack_env(local),
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)

    def store() -> None:
        _, err = writer.communicate("write\n", timeout=120)
        assert writer.returncode == 0, err

    return store


def test_a_long_bill_history_comes_a_page_at_a_time(local, browser):
    """``GET /v1/me/bills`` answers 4 bills and a cursor: the page shows them, and "more" appends the next page
    until there is no cursor."""
    plate = "苏B6H789"
    store = _bills_in_the_stack(local, plate, 6)  # its imports meanwhile the citizen signs in and proves the plate
    sign_in(local, browser, "13600136000")  # a phone of its own: the hospital journey signs in with 137...
    prove_plate(local, browser, plate)
    store()
    browser.refresh()
    until(browser, lambda d: len(d.find_elements(By.CSS_SELECTOR, "#bills li.bill")) == 4)
    more = wait_for(browser, "#more-bills")
    assert more.text == "更多账单"
    ids = [li.get_attribute("id") for li in browser.find_elements(By.CSS_SELECTOR, "#bills li.bill")]
    assert ids == [f"bill-bill_history_{i:03d}" for i in range(5, 1, -1)]  # newest first
    check_page(browser, "30-bills-first-page")
    more.click()
    until(browser, lambda d: len(d.find_elements(By.CSS_SELECTOR, "#bills li.bill")) == 6)
    ids = [li.get_attribute("id") for li in browser.find_elements(By.CSS_SELECTOR, "#bills li.bill")]
    assert ids == [f"bill-bill_history_{i:03d}" for i in range(5, -1, -1)]
    assert not browser.find_element(By.ID, "more-bills").is_displayed()  # the last page: no cursor
    check_page(browser, "31-bills-all-pages")
