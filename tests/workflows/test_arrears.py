"""The arrears path on the local stack: every pay-later charge declines, an arrears case opens, the ladder
reminds through the official channel, suspends pay-later, flags the plate at the exit; repayment through
any channel closes everything. Also: a dispute pauses the ladder; a write-off closes the case in the ledger."""

from __future__ import annotations

import json
import time

import pytest

from shared.arrears.model import case_id_for
from shared.auth import Principal, Role
from shared.ledger.accounts import Account
from tests.support import CallbackPoster, advance_until, crash_once_after
from tests.workflows.test_pay_later import GRACE, PLATE, _grace_ends, _leave, citizen  # noqa: F401  (fixture)

HOUR = 3600


@pytest.fixture
def in_arrears(stack, device, clock, citizen):  # noqa: F811
    stack.services.providers["sandbox"].configure(fail_next_off_session=10)
    _leave(device, clock)
    bill_id = citizen("get", "/v1/me/bills")[1]["bills"][0]["bill_id"]
    assert _grace_ends(clock)["started"] == 1  # the grace period ends unpaid: the billing workflow starts
    case = advance_until(stack, lambda: stack.services.arrears._cases.get(case_id_for(bill_id)), "the case opens")
    return bill_id, case


def _case(stack, bill_id):
    return stack.services.arrears._cases.get(case_id_for(bill_id))


def _execution(stack, machine, name):
    return next(e for e in stack.executions(machine) if e["name"] == name)["executionArn"]


def test_all_retries_fail_then_the_ladder_then_repayment_closes_everything(stack, api, device, clock, citizen, in_arrears):  # noqa: F811
    bill_id, case = in_arrears
    billing = stack.wait_execution(_execution(stack, "pay-later-billing", bill_id))
    assert billing["status"] == "SUCCEEDED"
    declined = 4  # the first charge and three retries (after 1 h, 24 h and 72 h)
    assert stack.services.providers["sandbox"].behaviour.fail_next_off_session == 10 - declined
    assert case.amount_fen == 600 and case.evidence["entered_at"]

    advance_until(stack, lambda: len(_case(stack, bill_id).steps_done) >= 4, "reminders and the suspension")
    account = citizen("get", "/v1/me/account")[1]
    reminders = [n for n in account["notices"] if n["kind"] == "arrears_reminder"]
    assert len(reminders) == 3
    assert "http" not in reminders[0]["text"] and "官方服务窗口" in reminders[0]["text"] and case.session_id in reminders[0]["text"]
    assert account["suspended_by_arrears"] == [case.case_id]

    advance_until(stack, lambda: _case(stack, bill_id).flagged, "the exit flag")
    ack = _leave(device, clock, hours=0.2)  # a free stay, but the flagged plate pays its arrears at the exit
    assert ack["gate"] == {"decision": "pay", "amount_fen": 600, "reason": "arrears", "arrears_fen": 600,
                           "pay_url": "https://pay.tongting.example/v1/pay/lx-nanchang-st-01?lane=out-1"}

    resp = api.post(f"/v1/bills/{bill_id}/payments", headers={"Content-Type": "application/json"}, body=json.dumps({"channel": "unionpay"}))
    sandbox = stack.services.providers["sandbox"]
    sandbox.approve(stack.services.payments.payment(json.loads(resp.body)["payment_id"]).provider_ref)
    sandbox.deliver(CallbackPoster(api, "sandbox"))

    closed = _case(stack, bill_id)
    assert (closed.state.value, closed.closed_reason, closed.recovered_fen) == ("closed", "repaid", 600)
    arrears_run = stack.wait_execution(_execution(stack, "arrears-escalation", case.case_id))
    assert arrears_run["status"] == "SUCCEEDED"
    assert citizen("get", "/v1/me/account")[1]["suspended_by_arrears"] == []
    assert stack.services.ledger.balance(Account.receivable(PLATE)) == 0 and stack.services.ledger.check() == []


def test_a_dispute_pauses_the_ladder_and_an_upheld_one_closes_the_case(stack, api, clock, citizen, in_arrears):  # noqa: F811
    bill_id, case = in_arrears
    status, dispute = citizen("post", f"/v1/me/bills/{bill_id}/disputes", {"reason": "missed_exit", "detail": "I left at 10:00"})
    assert status == 201 and dispute["evidence"]["entered_at"]
    advance_until(stack, lambda: _case(stack, bill_id).state.value == "paused", "the pause")
    clock.advance(20 * 86400)
    time.sleep(0.05)
    assert _case(stack, bill_id).steps_done == []  # nothing escalates while staff decide

    staff = Principal(subject="lx-staff", role=Role.DISTRICT_ADMIN, district_code="320213")
    stack.services.disputes.resolve(staff, bill_id, {"decision": "upheld", "fair_amount_fen": 0, "note": "exit camera missed the car"})
    closed = _case(stack, bill_id)
    assert closed.state.value == "closed" and stack.services.billing.get(bill_id).adjusted_fen == 600
    assert stack.wait_execution(_execution(stack, "arrears-escalation", case.case_id))["status"] == "SUCCEEDED"
    assert stack.services.ledger.check() == []


def test_write_off_names_reason_and_approver_and_closes_the_case_in_the_ledger(stack, api, citizen, in_arrears):  # noqa: F811
    _, case = in_arrears
    other_district = Principal(subject="xw-staff", role=Role.DISTRICT_ADMIN, district_code="320214")
    from shared.errors import InvalidInput, NotFound

    with pytest.raises(NotFound):  # another district's case answers as absent (shared/access.py)
        stack.services.arrears.write_off(other_district, case.case_id, "uncollectable", "chief")
    staff = Principal(subject="lx-staff", role=Role.DISTRICT_ADMIN, district_code="320213")
    with pytest.raises(InvalidInput):
        stack.services.arrears.write_off(staff, case.case_id, "", "")
    done = stack.services.arrears.write_off(staff, case.case_id, "vehicle deregistered", "chief Wang")
    assert (done.state.value, done.closed_reason) == ("closed", "written_off")
    assert stack.services.ledger.balance(Account.write_off("320213")) == 600
    assert stack.services.ledger.balance(Account.receivable(PLATE)) == 0 and stack.services.ledger.check() == []


def test_collection_queue_contacts_and_the_incentive_on_recovery(stack, api, citizen, in_arrears):  # noqa: F811
    bill_id, case = in_arrears
    advance_until(stack, lambda: _case(stack, bill_id).handed_over, "the hand-over", step_s=6 * HOUR)
    operator = Principal(subject="op", role=Role.OPERATOR, operator_id="wx-city-parking")
    assert [c.case_id for c in stack.services.arrears.queue(operator)] == [case.case_id]
    assert stack.services.arrears.queue(Principal(subject="x", role=Role.OPERATOR, operator_id="xinwu-hitech")) == []
    stack.services.arrears.record_contact(operator, case.case_id, {"channel": "phone", "outcome": "promised to pay"})
    resp = api.post(f"/v1/bills/{bill_id}/payments", headers={"Content-Type": "application/json"}, body=json.dumps({"channel": "alipay"}))
    sandbox = stack.services.providers["sandbox"]
    sandbox.approve(stack.services.payments.payment(json.loads(resp.body)["payment_id"]).provider_ref)
    sandbox.deliver(CallbackPoster(api, "sandbox"))
    ledger = stack.services.ledger
    # 10 % of the recovered ¥6, 60 % of it to the collecting district, the rest to the city platform.
    assert ledger.balance(Account.collection_incentive("district-320213")) == -36
    assert ledger.balance(Account.collection_incentive("city-platform")) == -24
    assert ledger.check() == []


def test_a_crash_after_opening_the_case_loses_nothing_and_doubles_nothing(stack, device, clock, citizen):  # noqa: F811
    stack.services.providers["sandbox"].configure(fail_next_off_session=10)
    with crash_once_after("pay-later-billing", "open_arrears") as crashed:
        _leave(device, clock)
        bill_id = citizen("get", "/v1/me/bills")[1]["bills"][0]["bill_id"]
        _grace_ends(clock)
        billing = _execution(stack, "pay-later-billing", bill_id)
        advance_until(stack, lambda: stack.wait_execution(billing, timeout_s=0.01)["status"] != "RUNNING", "billing ends")
    assert crashed and stack.wait_execution(billing)["status"] == "SUCCEEDED"
    assert len(stack.executions("arrears-escalation")) == 1 and _case(stack, bill_id).amount_fen == 600
