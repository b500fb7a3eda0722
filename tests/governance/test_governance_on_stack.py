"""Settlement, the platform fee and the city push on the local stack (DynamoDB in moto, the schedules of
shared/resources.py fired by the local scheduler, the HTTP routes): real parking and payments, a late
callback, a crash then a retry, downloads scoped by role. The half year of daily settlements before the
platform fee runs on memory stores (its statements' store has its contract on both)."""

from __future__ import annotations

import json
from datetime import datetime, timedelta

import pytest

from infra.local import scheduler
from shared import resources, tokens
from shared.auth import Role
from shared.clock import SHANGHAI
from shared.tariffs.samples import ZHUMADIAN_CLASS1
from tests.support import LIANGXI, XINWU, CallbackPoster, gate_event, price_lot
from tools.city_receiver import Receiver

LOT = "lx-nanchang-st-01"
OP = "wx-city-parking"


@pytest.fixture
def priced(platform, city):
    price_lot(platform.services, LOT, ZHUMADIAN_CLASS1)
    return platform.services


def _auth(stack, clock, role, district=None, operator=None):
    t = tokens.mint(stack.services.token_key(), subject=f"{role.value}-user", role=role, now=clock.now(),
                    district_code=district, operator_id=operator)
    return {"Authorization": f"Bearer {t}"}


def _park_and_pay(api, services, device, clock, plate, deliver=True):
    device("lx-in1").post(gate_event("entry", plate, clock.now()))
    clock.advance(hours=2.5)
    status, body = device("lx-out1").post(gate_event("exit", plate, clock.now()))
    assert status == 200, body
    bill_id = json.loads(api.get(f"/v1/pay/{LOT}?lane=out-1").body)["bill"]["bill_id"]
    resp = api.post(f"/v1/pay/{LOT}/payments", headers={"Content-Type": "application/json"},
                    body=json.dumps({"bill_id": bill_id, "channel": "wechat_pay"}))
    assert resp.status_code == 201, resp.body
    payment = services.payments.payment(json.loads(resp.body)["payment_id"])
    services.providers["sandbox"].approve(payment.provider_ref)
    if deliver:
        services.providers["sandbox"].deliver(CallbackPoster(api, "sandbox"))
    return bill_id


def _schedule(logical):
    return next(s for s in resources.SCHEDULES if s.logical == logical)


def fire(schedule, now):
    """Invoke a schedule's function as EventBridge would; its answer (or {"error": ...} if it raised)."""
    out = scheduler.fire(schedule, now)
    return out if isinstance(out, dict) else json.loads(out)


def test_statement_agrees_with_the_ledger_late_callback_next_day_crash_and_retry(api, stack, clock, priced, device):
    svc = priced
    _park_and_pay(api, svc, device, clock, "苏B12345")
    _park_and_pay(api, svc, device, clock, "苏B67890", deliver=False)  # its callback is late
    clock.set(datetime(2026, 11, 24, 3, 30, tzinfo=SHANGHAI))
    store, calls = svc.settlement._store, []
    real = store.issue

    def crash_after_first(statement, covered):
        if not calls:
            calls.append(statement.operator_id)
            real(statement, covered)
            raise RuntimeError("the Lambda died after issuing one statement")
        return real(statement, covered)

    store.issue = crash_after_first
    assert "error" in fire(_schedule("daily-settlement"), clock.now())
    store.issue = real
    result = fire(_schedule("daily-settlement"), clock.now())  # EventBridge retries the invocation
    assert result == {"day": "2026-11-23", "operators": 2, "issued": 1, "already_issued": 1,
                      "reconciliation_disagreements": {}}
    day1 = store.get(OP, "2026-11-23")
    assert day1.current.sessions == 2 and day1.current.collected_total_fen == day1.current.gross_billed_fen // 2
    assert svc.settlement.check(day1) == []
    # The late callback arrives; day 1 stays as issued, day 2 carries it as an adjustment.
    svc.providers["sandbox"].deliver(CallbackPoster(api, "sandbox"))
    assert fire(_schedule("daily-settlement"), clock.now())["already_issued"] == 2
    assert store.get(OP, "2026-11-23") == day1
    clock.set(datetime(2026, 11, 25, 3, 30, tzinfo=SHANGHAI))
    fire(_schedule("daily-settlement"), clock.now())
    day2 = store.get(OP, "2026-11-24")
    assert day2.adjustments.collected_total_fen == day1.current.gross_billed_fen // 2
    assert day2.late_days == ["2026-11-23"] and day2.closing_receivables_fen == 0
    assert svc.settlement.check(day2) == []
    # Every posting is settled now: the statements' revenue movements sum to the ledger's balance.
    revenue = f"operator_revenue:{OP}"
    assert day1.ledger[revenue] + day2.ledger.get(revenue, 0) == svc.ledger.balance(revenue)


def test_downloads_are_scoped_by_role_json_and_csv(api, stack, clock, priced, device):
    _park_and_pay(api, priced, device, clock, "苏B12345")
    clock.set(datetime(2026, 11, 24, 3, 45, tzinfo=SHANGHAI))
    assert "daily-settlement" in stack.run_due_schedules()  # the schedule fires on the local stack
    path = f"/v1/admin/settlements?operator={OP}&from=2026-11-01&to=2026-11-30"
    for role, district, operator in ((Role.CITY_ADMIN, None, None), (Role.AUDITOR, None, None),
                                     (Role.DISTRICT_ADMIN, LIANGXI, None), (Role.OPERATOR, None, OP)):
        resp = api.get(path, headers=_auth(stack, clock, role, district, operator))
        assert resp.status_code == 200, resp.body
        assert [s["statement_id"] for s in json.loads(resp.body)["statements"]] == [f"st_{OP}_2026-11-23"]
    for role, district, operator in ((Role.DISTRICT_ADMIN, XINWU, None), (Role.OPERATOR, None, "xinwu-hitech"),
                                     (Role.CITIZEN, None, None)):
        resp = api.get(f"/v1/admin/settlements/st_{OP}_2026-11-23", headers=_auth(stack, clock, role, district, operator))
        assert resp.status_code == 403 and json.loads(resp.body)["code"], resp.body
    one = api.get(f"/v1/admin/settlements/st_{OP}_2026-11-23", headers=_auth(stack, clock, Role.CITY_ADMIN))
    assert json.loads(one.body)["check"] == []
    csv = api.get(f"/v1/admin/settlements/st_{OP}_2026-11-23", headers={**_auth(stack, clock, Role.OPERATOR, None, OP), "Accept": "text/csv"})
    assert csv.status_code == 200 and csv.headers["Content-Type"].startswith("text/csv")
    assert csv.body.startswith(b"\xef\xbb\xbf") and b"st_wx-city-parking_2026-11-23" in csv.body
    bad = api.get(f"/v1/admin/settlements?operator={OP}&from=2026-13-01&to=x", headers=_auth(stack, clock, Role.CITY_ADMIN))
    assert bad.status_code == 400 and json.loads(bad.body)["code"] == "bad_query"
    missing = api.get("/v1/admin/settlements/st_nobody_2026-11-23", headers=_auth(stack, clock, Role.CITY_ADMIN))
    assert missing.status_code == 404


def test_platform_fee_from_its_schedule_posts_once(api, platform, clock, priced, device):
    """On memory stores: 181 daily settlements on moto cost ~16 s of CPU. The fee's statements on DynamoDB are
    tests/contracts/test_governance.py's; settlement from its schedule on the stack is the test above."""
    stack = platform  # _auth takes the services' token key from either
    svc = priced
    op = svc.registry.operators.require(OP)
    svc.registry.update_operator(
        __import__("tests.support", fromlist=["CITY_ADMIN"]).CITY_ADMIN, OP,
        {**op.model_dump(mode="json"), "ownership": "government"})
    clock.set(datetime(2026, 1, 1, 9, 0, tzinfo=SHANGHAI))
    _park_and_pay(api, svc, device, clock, "苏B12345")
    day = datetime(2026, 1, 1, tzinfo=SHANGHAI).date()
    while day < datetime(2026, 7, 1).date():
        clock.set(datetime.combine(day + timedelta(days=1), datetime.min.time(), SHANGHAI) + timedelta(hours=3, minutes=30))
        svc.settlement.settle(day)
        day += timedelta(days=1)
    clock.set(datetime(2026, 7, 2, 4, 0, tzinfo=SHANGHAI))
    first = fire(_schedule("half-year-platform-fee"), clock.now())
    assert first["half"] == "2026H1" and first["billed"] == 1
    assert fire(_schedule("half-year-platform-fee"), clock.now())["already_billed"] == 1
    revenue = -svc.ledger.balance(f"operator_revenue:{OP}")
    fee = (revenue * 300 + 5000) // 10000
    share = (fee * 3000 + 5000) // 10000  # the district's 30 % of the platform's returns (S15)
    assert first["district_returns"]["districts"] == {"320213": {"fees_fen": fee, "share_fen": share, "posted": True}}
    district = svc.registry.operators.require(OP).district_code
    assert svc.ledger.balance("platform_fee") == -(fee - share) and svc.ledger.balance(f"operator_fee_receivable:{OP}") == fee
    assert svc.ledger.balance(f"district_returns:{district}") == -share
    report = json.loads(api.get("/v1/admin/platform-fee", headers=_auth(stack, clock, Role.AUDITOR)).body)
    assert report["platform_fee_balance_fen"] == fee - share
    returns = json.loads(api.get("/v1/admin/district-returns", headers=_auth(stack, clock, Role.DISTRICT_ADMIN, district)).body)
    assert returns["districts"] == {district: {"balance_fen": share, "halves": {"2026H1": {"fees_fen": fee, "share_fen": share}}}}
    own = api.get(f"/v1/admin/platform-fee/{OP}/2026H1", headers=_auth(stack, clock, Role.OPERATOR, None, OP))
    assert json.loads(own.body)["fee_fen"] == fee
    assert api.get("/v1/admin/platform-fee", headers=_auth(stack, clock, Role.OPERATOR, None, OP)).status_code == 403


def test_city_push_on_the_stack_delivers_to_a_local_receiver(api, stack, clock, city, monkeypatch):
    receiver = Receiver("stack-push-key").start()
    try:
        from shared.citypush.ports import Target

        svc = stack.services.city_push
        svc._target = Target(url=receiver.url, key_id="tongting-platform", secret="stack-push-key", timeout_s=1)
        receiver.script = ["500"]
        out = fire(_schedule("city-push"), clock.now())
        assert out["queued"] == 3 and out["failed"] == 1 and out["delivered"] == 2
        dead_view = api.get("/v1/admin/city-pushes?state=pending", headers=_auth(stack, clock, Role.CITY_ADMIN))
        assert len(json.loads(dead_view.body)["pushes"]) == 1
        clock.advance(seconds=30)
        assert fire(_schedule("city-push"), clock.now())["delivered"] == 1
        assert {p["lot_id"] for p in receiver.received} == {"lx-nanchang-st-01", "lx-zhongshan-rd", "xw-taihu-plaza"}
        assert api.get("/v1/admin/city-pushes", headers=_auth(stack, clock, Role.OPERATOR, None, OP)).status_code == 403
    finally:
        receiver.stop()
