"""The shared-parking right's fee, collected through the pay code (on memory; the end-to-end run on the
embedded AWS is ``test_sharing.py``'s ``right`` fixture): each term a bill with a balanced charge to the
offer's operator, paid to the operator's own account, applied once whatever the callbacks; the right in
force only over paid terms; a crash at either seam repaired by a retry; a cancellation voids unpaid terms;
withdrawing an offer lets its rights run to their term."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from shared.auth import Role
from shared.bills.model import bill_id_for
from shared.ledger.accounts import Account
from shared.tariffs.samples import ZHUMADIAN_CLASS1
from tests.scenarios.conftest import CITIZEN_PLATE, pay_through_pay_code
from tests.scenarios.test_sharing import LOT, OFFER
from tests.support import CallbackPoster, gate_event, price_lot

OPERATOR = "wx-city-parking"


@pytest.fixture
def approved(services, call, token, citizen):
    """citizen-1's application approved by the operator: the right exists, its first term unpaid."""
    price_lot(services, LOT, ZHUMADIAN_CLASS1)
    operator = token(Role.OPERATOR, operator=OPERATOR)
    assert call("post", "/v1/admin/sharing/offers", operator, OFFER)[0] == 201
    app = call("post", f"/v1/sharing/offers/{OFFER['offer_id']}/applications", citizen, {"plates": [CITIZEN_PLATE], "months": 1})[1]
    status, body = call("post", f"/v1/sharing/applications/{app['application_id']}/decision", operator, {"decision": "approve", "version": 1})
    assert status == 200, body
    return body


def _balances(services) -> dict[str, int]:
    ledger = services.ledger
    return {"receivable": ledger.balance(Account.receivable(CITIZEN_PLATE)),
            "revenue": ledger.balance(Account.operator_revenue(OPERATOR)),
            "sandbox": ledger.balance(Account.provider_clearing("sandbox"))}  # fmt: skip


def _night_stay(device, clock) -> dict:
    """Monday 19:30 to Tuesday 07:00 (the clock starts Monday 09:00): inside the offer's night window."""
    clock.advance(10.5 * 3600)
    device("lx-in1").post(gate_event("entry", CITIZEN_PLATE, clock.now()))
    clock.advance(11.5 * 3600)
    return device("lx-out1").post(gate_event("exit", CITIZEN_PLATE, clock.now()))[1]["acks"][0]["gate"]


def test_approval_bills_the_fee_to_the_operator_and_the_right_waits_for_payment(services, call, token, approved, device, clock):
    term = approved["terms"][0]
    assert (term["number"], term["months"], term["fee_fen"]) == (0, 1, 15000) and "paid_at" not in term
    bill = call("get", f"/v1/admin/bills/{term['bill_id']}", token(Role.OPERATOR, operator=OPERATOR))[1]
    assert (bill["amount_fen"], bill["due_fen"], bill["operator_id"], bill["plate"]) == (15000, 15000, OPERATOR, CITIZEN_PLATE)
    assert bill["breakdown"]["kind"] == "shared_parking_fee" and bill["breakdown"]["application_id"] == approved["application_id"]
    assert _balances(services) == {"receivable": 15000, "revenue": -15000, "sandbox": 0}  # a balanced charge
    # not in force until paid: a night stay is billed by the tariff
    gate = _night_stay(device, clock)
    assert gate["decision"] == "pay" and gate["amount_fen"] > 0


def test_the_fee_paid_through_the_pay_code_once_puts_the_right_in_force(services, call, citizen, approved, device, clock, api):
    bill_id = approved["terms"][0]["bill_id"]
    outcomes = pay_through_pay_code(services, api, bill_id, deliveries=3)  # the provider repeats its callback
    assert outcomes == ["applied", "duplicate", "duplicate"]
    assert _balances(services) == {"receivable": 0, "revenue": -15000, "sandbox": 15000}
    payment = services.payments.payment(services.billing.get(bill_id).payments[0])
    assert services.providers["sandbox"]._get(payment.provider_ref).request.destination == f"acct_{OPERATOR}"
    right = call("get", f"/v1/sharing/applications/{approved['application_id']}", citizen)[1]
    assert [h["action"] for h in right["history"]] == ["applied", "approved", "paid"]
    gate = _night_stay(device, clock)  # the right covers the night: nothing to pay
    assert (gate["decision"], gate["amount_fen"]) == ("open", 0)
    assert services.billing.get(bill_id).status.value == "settled"


def test_a_crash_in_the_reaction_is_repaired_by_the_providers_resend(services, call, citizen, approved, api, monkeypatch):
    """The payment is committed, then the process dies before the right is marked paid: the provider's
    resend finds the payment applied (duplicate) and its follow-up puts the right in force, once."""
    _crash_then_resend(services, call, citizen, approved, api, monkeypatch)


def test_a_crash_in_the_reaction_is_repaired_on_dynamodb(stack, services, call, citizen, approved, api, monkeypatch):
    """The same on the embedded AWS (the DynamoDB sharing and money stores)."""
    _crash_then_resend(services, call, citizen, approved, api, monkeypatch)


def _crash_then_resend(services, call, citizen, approved, api, monkeypatch):
    store, real, crashed = services.stores.sharing, services.stores.sharing.save_application, []

    def crash_once(app):
        if not crashed:
            crashed.append(app.application_id)
            raise RuntimeError("the Lambda died after the payment's commit")
        return real(app)

    monkeypatch.setattr(store, "save_application", crash_once)
    bill_id = approved["terms"][0]["bill_id"]
    resp = api.post(f"/v1/bills/{bill_id}/payments", headers={"Content-Type": "application/json"}, body=json.dumps({"channel": "alipay"}))
    sandbox = services.providers["sandbox"]
    sandbox.configure(duplicates=1)
    sandbox.approve(services.payments.payment(json.loads(resp.body)["payment_id"]).provider_ref)
    deliveries = sandbox.pending_deliveries()
    assert len(deliveries) == 2
    with pytest.raises(RuntimeError):
        services.payments.callback("sandbox", *deliveries[0])
    assert crashed and "paid_at" not in call("get", f"/v1/sharing/applications/{approved['application_id']}", citizen)[1]["terms"][0]
    assert services.payments.callback("sandbox", *deliveries[1])["outcome"] == "duplicate"
    right = call("get", f"/v1/sharing/applications/{approved['application_id']}", citizen)[1]
    assert right["terms"][0]["paid_at"] and [h["action"] for h in right["history"]].count("paid") == 1
    assert _balances(services) == {"receivable": 0, "revenue": -15000, "sandbox": 15000}


def test_a_crash_between_approval_and_its_bill_is_repaired_by_the_next_read(services, call, token, citizen, monkeypatch):
    price_lot(services, LOT, ZHUMADIAN_CLASS1)
    operator = token(Role.OPERATOR, operator=OPERATOR)
    call("post", "/v1/admin/sharing/offers", operator, OFFER)
    app = call("post", f"/v1/sharing/offers/{OFFER['offer_id']}/applications", citizen, {"plates": [CITIZEN_PLATE], "months": 2})[1]
    money = services.stores.money
    real = money.commit

    def dies(change):
        raise RuntimeError("the Lambda died after the approval's write")

    monkeypatch.setattr(money, "commit", dies)
    with pytest.raises(RuntimeError):
        services.sharing.decide(_operator(), app["application_id"], {"decision": "approve", "version": 1})
    monkeypatch.setattr(money, "commit", real)
    bill_id = bill_id_for(f"share:{app['application_id']}:0")
    assert money.bill(bill_id) is None
    right = call("get", f"/v1/sharing/applications/{app['application_id']}", citizen)[1]  # the applicant looks for the fee
    assert right["status"] == "approved" and right["terms"][0]["bill_id"] == bill_id
    assert money.bill(bill_id).amount_fen == 30000
    call("get", f"/v1/sharing/applications/{app['application_id']}", citizen)  # read again: still one bill, one charge
    assert _balances(services) == {"receivable": 30000, "revenue": -30000, "sandbox": 0}


def _operator():
    from shared.auth import Principal

    return Principal(subject="op-user", role=Role.OPERATOR, operator_id=OPERATOR)


def test_an_unpaid_renewal_lets_the_right_lapse_until_it_is_paid(services, call, citizen, approved, api, clock):
    path = f"/v1/sharing/applications/{approved['application_id']}"
    pay_through_pay_code(services, api, approved["terms"][0]["bill_id"])
    right = call("get", path, citizen)[1]
    renewed = call("post", f"{path}/renew", citizen, {"months": 1, "version": right["version"]})[1]
    assert renewed["terms"][1]["starts"] == approved["valid_until"] and "paid_at" not in renewed["terms"][1]
    app = services.stores.sharing.application(approved["application_id"])
    first_end = app.terms[0].ends
    assert app.active(first_end - timedelta(minutes=1)) and not app.active(first_end + timedelta(minutes=1))
    assert pay_through_pay_code(services, api, renewed["terms"][1]["bill_id"]) == ["applied"]
    app = services.stores.sharing.application(approved["application_id"])
    assert app.active(first_end + timedelta(minutes=1)) and app.paid_until == app.valid_until
    assert _balances(services) == {"receivable": 0, "revenue": -30000, "sandbox": 30000}


def test_cancelling_an_unpaid_right_voids_its_bill_and_a_free_offer_needs_no_bill(services, call, token, citizen, approved, api):
    path = f"/v1/sharing/applications/{approved['application_id']}"
    assert call("post", f"{path}/cancel", citizen, {"version": approved["version"]})[1]["status"] == "cancelled"
    bill_id = approved["terms"][0]["bill_id"]
    assert services.billing.get(bill_id).due_fen == 0
    assert _balances(services) == {"receivable": 0, "revenue": 0, "sandbox": 0}  # charge and adjustment cancel out
    resp = api.post(f"/v1/bills/{bill_id}/payments", headers={"Content-Type": "application/json"}, body=json.dumps({"channel": "alipay"}))
    assert (resp.status_code, json.loads(resp.body)["code"]) == (409, "nothing_due")
    free = {**OFFER, "offer_id": "free-nights", "monthly_fee_fen": 0}
    operator = token(Role.OPERATOR, operator=OPERATOR)
    assert call("post", "/v1/admin/sharing/offers", operator, free)[0] == 201
    app = call("post", "/v1/sharing/offers/free-nights/applications", citizen, {"plates": [CITIZEN_PLATE], "months": 1})[1]
    right = call("post", f"/v1/sharing/applications/{app['application_id']}/decision", operator, {"decision": "approve", "version": 1})[1]
    assert right["terms"][0]["paid_at"] and "bill_id" not in right["terms"][0]


def test_withdrawing_an_offer_keeps_paid_rights_to_their_term_and_rejects_pending(services, api, call, token, citizen, approved, clock):
    """The operator withdraws its offer: the approved right runs to its term (no renewal), a pending
    application is rejected, nobody applies any more; versioned and scoped."""
    pay_through_pay_code(services, api, approved["terms"][0]["bill_id"])
    other = token(Role.CITIZEN, subject="citizen-2")
    call("post", "/v1/me/account", other, {"consent": True})
    call("post", "/v1/me/plates", other, {"plate": "苏B54321"})
    call("post", "/v1/me/plates/verify", other, {"plate": "苏B54321", "code": services.plate_verifier.sent["苏B54321"]})
    pending = call("post", f"/v1/sharing/offers/{OFFER['offer_id']}/applications", other, {"plates": ["苏B54321"], "months": 1})[1]
    path = f"/v1/admin/sharing/offers/{OFFER['offer_id']}/withdraw"
    for who, code in ((token(Role.OPERATOR, operator="xinwu-hitech"), 403), (token(Role.DISTRICT_ADMIN, district="320214"), 403),
                      (token(Role.AUDITOR), 403), (citizen, 403)):  # fmt: skip
        assert call("post", path, who, {"version": 1})[0] == code
    operator = token(Role.OPERATOR, operator=OPERATOR)
    assert call("post", path, operator, {})[1]["code"] == "version_required"
    assert call("post", path, operator, {"version": 7})[1]["code"] == "version_conflict"
    assert call("post", path, operator, "[]")[1]["code"] == "invalid_json"
    assert call("post", "/v1/admin/sharing/offers/nope/withdraw", operator, {"version": 1})[0] == 404
    version = call("get", f"/v1/sharing/offers/{OFFER['offer_id']}")[1]["version"]
    status, offer = call("post", path, operator, {"version": version, "note": "单位收回车位"})
    assert (status, offer["status"], offer["version"]) == (200, "withdrawn", version + 1)
    assert call("post", path, operator, {"version": version})[1]["status"] == "withdrawn"  # a repeat: the same answer
    rejected = call("get", f"/v1/sharing/applications/{pending['application_id']}", other)[1]
    assert rejected["status"] == "rejected" and rejected["history"][-1]["note"] == "单位收回车位"
    right = call("get", f"/v1/sharing/applications/{approved['application_id']}", citizen)[1]
    assert right["status"] == "approved" and services.stores.sharing.application(right["application_id"]).active(clock.now())
    assert call("post", f"/v1/sharing/applications/{right['application_id']}/renew", citizen,
                {"months": 1, "version": right["version"]})[1]["code"] == "offer_closed"
    assert call("post", f"/v1/sharing/offers/{OFFER['offer_id']}/applications", other,
                {"plates": ["苏B54321"], "months": 1})[1]["code"] == "offer_closed"
