"""A charging report that arrives after the stay was billed lowers the bill (on memory): an adjustment
posting (balanced) with the charging line in the breakdown, and, if the bill was paid, a refund of the
difference through the refund path; a resent report and a retry after a crash change nothing more."""

from __future__ import annotations

from datetime import timedelta

import pytest

from shared.auth import Role
from shared.bills.model import bill_id_for
from shared.ledger.accounts import Account
from shared.tariffs.samples import ZHUMADIAN_CLASS1
from tests.scenarios.conftest import pay_through_pay_code
from tests.scenarios.test_charging import LOT, PLATE, _charging, _price
from tests.support import CITY_ADMIN, gate_event, price_lot

OPERATOR = "wx-city-parking"


@pytest.fixture
def stay(services, city, device, call, token, clock):
    """A free-while-charging lot, and a 6 h stay billed at the tariff before any charging report came."""
    price_lot(services, LOT, ZHUMADIAN_CLASS1)
    secret = services.registry.register_device(CITY_ADMIN, {"device_id": "lx-chargers", "kind": "lot_system", "lot_id": LOT}).secret
    city.secrets["lx-chargers"] = secret
    policy = {"mode": "free", "grace_minutes": 30}
    assert call("put", f"/v1/admin/lots/{LOT}/charging-policy", token(Role.CITY_ADMIN), policy)[0] == 200
    entered = clock.now()
    session_id = device("lx-in1").post(gate_event("entry", PLATE, entered))[1]["acks"][0]["session_id"]
    clock.advance(6 * 3600)
    exited = clock.now()
    assert device("lx-out1").post(gate_event("exit", PLATE, exited))[1]["acks"][0]["gate"]["amount_fen"] == _price(entered, exited)
    charge = _charging(entered + timedelta(minutes=10), entered + timedelta(minutes=100))
    covered = _price(entered, entered + timedelta(minutes=130)) - _price(entered, entered + timedelta(minutes=10))
    return {"bill_id": bill_id_for(session_id), "tariff": _price(entered, exited), "covered": covered, "report": charge,
            "charger": device("lx-chargers")}  # fmt: skip


def _balances(services) -> dict[str, int]:
    ledger = services.ledger
    return {"receivable": ledger.balance(Account.receivable(PLATE)), "revenue": ledger.balance(Account.operator_revenue(OPERATOR)),
            "sandbox": ledger.balance(Account.provider_clearing("sandbox"))}  # fmt: skip


def test_a_late_report_lowers_an_unpaid_bill(services, stay):
    tariff, covered = stay["tariff"], stay["covered"]
    assert 0 < covered < tariff
    assert stay["charger"].post(stay["report"])[1]["acks"][0]["status"] == "accepted"
    bill = services.billing.get(stay["bill_id"])
    assert (bill.amount_fen, bill.adjusted_fen, bill.due_fen) == (tariff, covered, tariff - covered)
    assert bill.breakdown["adjustments"][0]["kind"] == "charging" and bill.breakdown["adjustments"][0]["amount_fen"] == -covered
    assert _balances(services) == {"receivable": tariff - covered, "revenue": -(tariff - covered), "sandbox": 0}
    assert stay["charger"].post(stay["report"])[1]["acks"][0]["status"] == "duplicate"
    services.charging.report(_event(stay["report"]), services.registry.lots.require(LOT), "lx-chargers")  # a retried hook
    assert services.billing.get(stay["bill_id"]).adjusted_fen == covered
    assert _balances(services)["receivable"] == tariff - covered


def test_a_late_report_after_payment_refunds_the_difference(services, api, stay):
    tariff, covered = stay["tariff"], stay["covered"]
    assert pay_through_pay_code(services, api, stay["bill_id"]) == ["applied"]
    assert stay["charger"].post(stay["report"])[1]["acks"][0]["status"] == "accepted"
    bill = services.billing.get(stay["bill_id"])
    refunds = services.payments.refunds_of(bill)
    assert [(r["amount_fen"], r["reason"], r["state"]) for r in refunds] == [(covered, "price_corrected", "succeeded")]
    assert (bill.paid_fen, bill.refunded_fen, bill.adjusted_fen, bill.balance_fen) == (tariff, covered, covered, 0)
    assert _balances(services) == {"receivable": 0, "revenue": -(tariff - covered), "sandbox": tariff - covered}
    services.charging.report(_event(stay["report"]), services.registry.lots.require(LOT), "lx-chargers")
    assert len(services.payments.refunds_of(services.billing.get(stay["bill_id"]))) == 1


def test_a_crash_between_the_adjustment_and_the_refund_is_repaired_by_the_devices_retry(services, api, stay, monkeypatch):
    tariff, covered = stay["tariff"], stay["covered"]
    pay_through_pay_code(services, api, stay["bill_id"])
    applier, real, crashed = services.payments.applier, services.payments.applier.refund_excess, []

    def crash_once(bill, reason):
        if not crashed:
            crashed.append(bill.bill_id)
            raise RuntimeError("the Lambda died after the adjustment's commit")
        return real(bill, reason)

    monkeypatch.setattr(applier, "refund_excess", crash_once)
    with pytest.raises(RuntimeError):
        services.charging.report(_event(stay["report"]), services.registry.lots.require(LOT), "lx-chargers")
    assert services.billing.get(stay["bill_id"]).overpaid_fen == covered  # lowered, not yet refunded
    assert stay["charger"].post(stay["report"])[1]["acks"][0]["status"] == "accepted"  # the retry: never acknowledged before
    bill = services.billing.get(stay["bill_id"])
    assert (bill.adjusted_fen, bill.refunded_fen, bill.balance_fen) == (covered, covered, 0)
    assert _balances(services) == {"receivable": 0, "revenue": -(tariff - covered), "sandbox": tariff - covered}


def test_a_report_that_does_not_touch_the_stay_changes_nothing(services, stay, clock):
    later = clock.now() + timedelta(hours=1)
    stay["charger"].post(_charging(later, later + timedelta(minutes=30)))
    bill = services.billing.get(stay["bill_id"])
    assert (bill.adjusted_fen, bill.version) == (0, 1)


def _event(report: dict):
    from shared.protocol.events import ChargingSessionEvent

    return ChargingSessionEvent.model_validate(report)
