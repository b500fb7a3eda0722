"""Daily reconciliation on the local stack: a lost callback applied the next day, an amount the provider
records differently, a payment only we have, a day boundary crossed between us and the provider; every
re-run changes nothing. Also the Lambda handler and its daily schedule."""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta

import pytest

from shared.clock import SHANGHAI
from shared.payments.provider import Channel, PaymentRequest, ProviderTransaction
from shared.payments.reconciliation import Reconciliation
from shared.tariffs.samples import ZHUMADIAN_CLASS1
from tests.support import CallbackPoster, gate_event, price_lot

LOT, PLATE = "lx-nanchang-st-01", "苏B12345"
DAY = date(2026, 11, 23)  # the ManualClock starts at 09:00 that day, Shanghai


@pytest.fixture
def priced(platform, city):
    price_lot(platform.services, LOT, ZHUMADIAN_CLASS1)
    return platform.services


def _park(device, clock, plate=PLATE, hours=2.5):
    device("lx-in1").post(gate_event("entry", plate, clock.now()))
    clock.advance(hours * 3600)
    status, body = device("lx-out1").post(gate_event("exit", plate, clock.now()))
    assert status == 200, body
    return body["acks"][0]


def _bill_id(api):
    return json.loads(api.get(f"/v1/pay/{LOT}?lane=out-1").body)["bill"]["bill_id"]


def _pay(api, services, bill_id, channel="wechat_pay"):
    resp = api.post(f"/v1/pay/{LOT}/payments", headers={"Content-Type": "application/json"},
                    body=json.dumps({"bill_id": bill_id, "channel": channel}))
    assert resp.status_code == 201, resp.body
    return services.payments.payment(json.loads(resp.body)["payment_id"])


def _paid(api, services, device, clock, *, lose_callback=False):
    """Park, pay with the sandbox and approve; the callback is delivered unless it is lost."""
    _park(device, clock)
    bill_id = _bill_id(api)
    payment = _pay(api, services, bill_id)
    sandbox = services.providers["sandbox"]
    if lose_callback:
        sandbox.drop_next_callbacks(1)
    sandbox.approve(payment.provider_ref)
    sandbox.deliver(CallbackPoster(api, "sandbox"))
    return bill_id, payment


def _reconciliation(services, providers=None):
    money = services.stores.money
    return Reconciliation(money, services.payments.applier, providers or services.providers, services.clock)


def _findings(services, kind=None):
    return [f for f in services.stores.money.findings() if kind is None or f["kind"] == kind]


def _postings(services):
    return len(list(services.ledger.scan_postings()))


class Shifted:
    """The sandbox as seen through a provider whose records differ: some hidden, all stamped later."""

    def __init__(self, inner, hide=(), delay=timedelta(0), fail=None):
        self.inner, self.name, self.hide, self.delay, self.fail = inner, inner.name, set(hide), delay, fail

    def list_transactions(self, start: datetime, end: datetime) -> list[ProviderTransaction]:
        if self.fail:
            raise self.fail
        seen = self.inner.list_transactions(start - self.delay, end)
        moved = [t.model_copy(update={"created_at": t.created_at + self.delay}) for t in seen]
        return [t for t in moved if t.provider_ref not in self.hide and start <= t.created_at < end]


def test_a_lost_callback_is_applied_the_next_day_once(priced, api, device, clock):
    bill_id, payment = _paid(api, priced, device, clock, lose_callback=True)
    assert priced.billing.get(bill_id).paid_fen == 0  # the provider took the money; we never heard
    assert priced.payments.payment(payment.payment_id).state.value == "pending"

    clock.advance(days=1)
    summary = _reconciliation(priced).run(DAY)
    assert summary["day"] == "2026-11-23"
    assert summary["providers"]["sandbox"] == {"listed": 1, "matched": 0, "applied": 1, "findings_new": 0,
                                               "findings_known": 0, "errors": 0}
    bill = priced.billing.get(bill_id)
    assert (bill.paid_fen, bill.balance_fen, bill.status.value) == (600, 0, "settled")
    assert priced.payments.payment(payment.payment_id).state.value == "succeeded"
    assert priced.ledger.check() == []
    postings = _postings(priced)

    again = _reconciliation(priced).run(DAY)
    assert again["providers"]["sandbox"] == {"listed": 1, "matched": 1, "applied": 0, "findings_new": 0,
                                             "findings_known": 0, "errors": 0}
    assert _postings(priced) == postings and priced.billing.get(bill_id).paid_fen == 600
    assert _findings(priced) == [] and priced.ledger.check() == []


def test_an_amount_the_provider_records_differently_is_flagged_once(priced, api, device, clock):
    _, payment = _paid(api, priced, device, clock)
    priced.providers["sandbox"].tamper_amount(payment.provider_ref, 500)
    clock.advance(days=1)

    first = _reconciliation(priced).run(DAY)["providers"]["sandbox"]
    assert (first["matched"], first["applied"], first["findings_new"]) == (0, 0, 1)
    (finding,) = _findings(priced)
    assert finding["kind"] == "amount_mismatch" and finding["payment_id"] == payment.payment_id
    assert (finding["platform_amount_fen"], finding["provider_amount_fen"]) == (600, 500)
    assert finding["provider_ref"] == payment.provider_ref and finding["bill_id"] == payment.bill_id
    assert finding["evidence"]["provider_status"] == "succeeded"

    again = _reconciliation(priced).run(DAY)["providers"]["sandbox"]
    assert (again["findings_new"], again["findings_known"]) == (0, 1)
    assert len(_findings(priced)) == 1


def test_a_payment_the_provider_does_not_list_is_flagged_missing(priced, api, device, clock):
    _, payment = _paid(api, priced, device, clock)
    clock.advance(days=1)
    providers = {**priced.providers, "sandbox": Shifted(priced.providers["sandbox"], hide={payment.provider_ref})}

    summary = _reconciliation(priced, providers).run(DAY)["providers"]["sandbox"]
    assert (summary["listed"], summary["findings_new"]) == (0, 1)
    (finding,) = _findings(priced)
    assert finding["kind"] == "missing_at_provider" and finding["payment_id"] == payment.payment_id
    assert (finding["platform_amount_fen"], finding["provider_amount_fen"]) == (600, None)
    assert finding["evidence"]["platform_state"] == "succeeded"
    assert _reconciliation(priced, providers).run(DAY)["providers"]["sandbox"]["findings_new"] == 0


def test_money_the_platform_never_asked_for_is_flagged_unknown(priced, clock):
    sandbox = priced.providers["sandbox"]
    stray = sandbox.create_payment(PaymentRequest(payment_id="pay_not_ours", bill_id="bill_x", amount_fen=300,
                                                  channel=Channel.ALIPAY, destination="acct_x"))
    sandbox.approve(stray.provider_ref)
    clock.advance(days=1)

    summary = _reconciliation(priced).run()  # default: yesterday in Shanghai
    assert summary["day"] == "2026-11-23" and summary["providers"]["sandbox"]["findings_new"] == 1
    (finding,) = _findings(priced)
    assert (finding["kind"], finding["provider_ref"], finding["provider_amount_fen"]) == (
        "unknown_at_platform", stray.provider_ref, 300)
    assert finding["platform_amount_fen"] is None and finding["bill_id"] is None


def test_a_payment_just_before_midnight_listed_by_the_provider_the_next_day(priced, api, device, clock):
    clock.set(datetime(2026, 11, 23, 21, 29, 58, tzinfo=SHANGHAI))
    _, payment = _paid(api, priced, device, clock, lose_callback=True)  # paid at 23:59:58
    assert payment.created_at.astimezone(SHANGHAI).date() == DAY
    providers = {**priced.providers, "sandbox": Shifted(priced.providers["sandbox"], delay=timedelta(seconds=5))}
    clock.advance(days=2)

    before = _reconciliation(priced, providers).run(DAY)["providers"]["sandbox"]
    assert (before["listed"], before["applied"], before["findings_new"]) == (0, 0, 0)  # not succeeded here yet
    after = _reconciliation(priced, providers).run(DAY + timedelta(days=1))["providers"]["sandbox"]
    assert (after["listed"], after["applied"], after["findings_new"]) == (1, 1, 0)
    # Reconciling the payment's own day again: the provider has it (just after midnight), nothing is missing.
    assert _reconciliation(priced, providers).run(DAY)["providers"]["sandbox"]["findings_new"] == 0
    assert _findings(priced) == [] and priced.ledger.check() == []


def test_a_provider_that_cannot_list_is_noted_and_nothing_recorded(priced, api, device, clock):
    _paid(api, priced, device, clock)
    clock.advance(days=1)
    providers = {**priced.providers, "sandbox": Shifted(priced.providers["sandbox"], fail=NotImplementedError())}
    summary = _reconciliation(priced, providers).run(DAY)["providers"]
    assert summary["sandbox"] == {"skipped": "no_transaction_list"} and "etc" in summary
    assert _findings(priced) == []


def test_handler_reconciles_the_given_day(priced, api, device, clock):
    from functions.reconciliation.handler import handler

    bill_id, _ = _paid(api, priced, device, clock, lose_callback=True)
    clock.advance(days=3)
    summary = handler({"day": "2026-11-23"}, None)
    assert summary["day"] == "2026-11-23" and summary["providers"]["sandbox"]["applied"] == 1
    assert priced.billing.get(bill_id).paid_fen == 600
    assert handler({"day": "2026-11-23"}, None)["providers"]["sandbox"]["applied"] == 0


def test_daily_schedule_reconciles_yesterday_at_two_in_the_morning(priced, api, device, stack, clock):
    bill_id, _ = _paid(api, priced, device, clock, lose_callback=True)  # 11:30 on the 23rd
    clock.set(datetime(2026, 11, 24, 1, 59, tzinfo=SHANGHAI))
    assert "daily-reconciliation" not in stack.run_due_schedules()
    clock.advance(minutes=2)  # 02:01 Shanghai = 18:01 UTC
    fired = stack.run_due_schedules()
    summary = json.loads(fired["daily-reconciliation"])
    assert summary["day"] == "2026-11-23" and summary["providers"]["sandbox"]["applied"] == 1
    assert priced.billing.get(bill_id).paid_fen == 600 and priced.ledger.check() == []


def test_staff_see_the_findings_of_their_own_bills_only(priced, api, device, clock):
    """GET /v1/admin/reconciliation/findings (the console's view): the city and auditors all, district staff
    their district's bills, an operator its own; a finding with no bill is the city's."""
    from datetime import timedelta as _td

    from shared.auth import Role
    from shared.tokens import mint

    _, payment = _paid(api, priced, device, clock)
    clock.advance(days=1)
    providers = {**priced.providers, "sandbox": Shifted(priced.providers["sandbox"], hide={payment.provider_ref})}
    _reconciliation(priced, providers).run(DAY)
    priced.stores.money.record_finding("orphan", {"kind": "unknown_at_platform", "provider": "sandbox", "day": DAY.isoformat(),
                                                   "payment_id": None, "bill_id": None, "found_at": "2026-11-24T09:00:00+08:00"})

    def seen(role, **claims):
        token = mint(priced.token_key(), subject="s", role=role, now=clock.now(), ttl=_td(hours=1), **claims)
        resp = api.get("/v1/admin/reconciliation/findings", headers={"Authorization": f"Bearer {token}"})
        return resp.status_code, [f["kind"] for f in json.loads(resp.body).get("findings", [])]

    for city_wide in (Role.CITY_ADMIN, Role.AUDITOR):
        status, kinds = seen(city_wide)
        assert status == 200 and sorted(kinds) == ["missing_at_provider", "unknown_at_platform"]
    assert seen(Role.DISTRICT_ADMIN, district_code="320213") == (200, ["missing_at_provider"])
    assert seen(Role.DISTRICT_ADMIN, district_code="320214") == (200, [])
    assert seen(Role.OPERATOR, operator_id="wx-city-parking") == (200, ["missing_at_provider"])
    assert seen(Role.CITIZEN)[0] == 403
