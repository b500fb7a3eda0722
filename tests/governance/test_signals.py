"""Fraud and data-hiding signals (S16), on memory stores through the device API, the archive writer and the
scheduled function, with time moved by the test.

The Liangxi lot leaves every pattern in one day: its occupancy rises by 30 while it reports 12 entries,
7 of its 12 exits are raised by hand (its usual rate is 2 %), all 12 exits that had to pay left unpaid,
6 entries of three days ago arrive only now while its link was up. The Xinwu lot's link is cut and its
buffered events arrive late after the outage: buffering, not hiding, so no signal.
"""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta

import pytest

from functions.supervision_daily.handler import handler as supervision_daily
from shared import tokens
from shared.archive.writer import ArchivedEvent
from shared.auth import Role
from shared.clock import SHANGHAI, iso
from shared.supervision import signals as sig
from shared.tariffs.samples import DAY_NIGHT
from tests.support import gate_event, price_lot

LX, XW = "lx-nanchang-st-01", "xw-taihu-plaza"
DAY = "2026-11-23"
KINDS = {"occupancy_mismatch", "zero_charge_exits", "closed_unpaid", "entries_never_exited", "late_reporting"}


def _archive(services) -> None:
    """What the acks stream does on the stack: every accepted event into the archive."""
    services.archive.write([ArchivedEvent.from_image(i) for i in services.stores.acks.items.values()])


def _ok(status, body):
    assert status == 200, body
    assert all(a["status"] == "accepted" for a in body["acks"]), body


@pytest.fixture
def fraud_day(api, clock, city, device, services):
    price_lot(services, LX, DAY_NIGHT)
    for n in range(3):  # the lot's usual days: 50 exits, 1 at zero charge
        services.stores.signals.add_day(sig.LotDay(LX, f"2026-11-{20 + n}", exits=50, zero_charge=1, reasons={"free": 1}))
    lx, xw = device("lx-in1"), device("xw-in1")
    occ = {"type": "occupancy", "lot_id": LX, "total": 100}
    _ok(*lx.post({**occ, "event_id": "occ-1", "free": 100, "occurred_at": iso(clock.now())}))
    _ok(*xw.post({"type": "heartbeat", "event_id": "xw-hb-1", "lot_id": XW, "occurred_at": iso(clock.now())}))
    plates = [f"苏B{n:05d}" for n in range(12)]
    for p in plates:
        clock.advance(minutes=1)
        _ok(*lx.post(gate_event("entry", p, clock.now())))
    three_days_ago = datetime(2026, 11, 20, 12, 0, tzinfo=SHANGHAI)
    held_back = [gate_event("entry", f"苏B7{n:04d}", three_days_ago + timedelta(minutes=n)) for n in range(6)]
    _ok(*lx.post({"events": held_back}))
    clock.advance(minutes=10)  # 09:22: Xinwu silent for 22 minutes, past its 10-minute window
    assert XW in services.liveness.run().comms_lost
    clock.set(datetime(2026, 11, 23, 10, 30, tzinfo=SHANGHAI))
    _ok(*lx.post({**occ, "event_id": "occ-2", "free": 70, "occurred_at": iso(clock.now())}))
    buffered = [gate_event("entry", f"苏E{n:05d}", datetime(2026, 11, 23, 9, 30 + 5 * n, tzinfo=SHANGHAI), lot=XW)
                for n in range(6)]
    _ok(*xw.post({"events": [*buffered, {"type": "heartbeat", "event_id": "xw-hb-2", "lot_id": XW,
                                         "occurred_at": iso(clock.now())}]}))
    assert XW in services.liveness.run().comms_restored
    clock.set(datetime(2026, 11, 23, 13, 0, tzinfo=SHANGHAI))
    out = device("lx-out1")
    for n, p in enumerate(plates):
        status, body = out.post(gate_event("exit", p, clock.now(), opened_manually=n < 7))
        _ok(status, body)
        assert body["acks"][0]["gate"]["decision"] == "pay", body
        clock.advance(minutes=2)
    _archive(services)
    clock.set(datetime(2026, 11, 24, 4, 0, tzinfo=SHANGHAI))
    return services


def _by_kind(services, lot_id):
    return {s.kind: s for s in services.stores.signals.of_district("320213" if lot_id == LX else "320214", DAY, DAY)
            if s.lot_id == lot_id}


def test_the_scan_explains_each_pattern_with_its_numbers(fraud_day):
    services = fraud_day
    summary = supervision_daily({}, None)
    assert summary["day"] == DAY and summary["compliance_stored"] is True
    found = _by_kind(services, LX)
    assert set(found) == KINDS
    occ = found["occupancy_mismatch"].numbers
    assert (occ["reported_change"], occ["entries"], occ["exits"], occ["difference"]) == (30, 12, 0, 18)
    zero = found["zero_charge_exits"].numbers
    assert (zero["exits"], zero["manual"], zero["usual_rate"], zero["usual_basis"]) == (12, 7, 0.02, "lot, 3 days")
    unpaid = found["closed_unpaid"].numbers
    assert unpaid["unpaid"] == 12 and unpaid["paying_exits"] == 12 and unpaid["unpaid_fen"] > 0
    assert found["entries_never_exited"].numbers["sessions"] == 6
    late = found["late_reporting"].numbers
    assert late["unexplained"] == 6 and late["by_type"] == {"entry": 6} and late["max_lag_s"] > 2 * 86400
    assert "7 manual" in found["zero_charge_exits"].explanation and "18 vehicles" in found["occupancy_mismatch"].explanation
    # Xinwu's late events happened during its outage: buffered, counted, not a signal
    assert _by_kind(services, XW) == {}
    [xw_day] = [d for d in services.stores.signals.days(XW, "2026-11-24", 1)]
    assert (xw_day.late, xw_day.buffered) == (6, 6)


def test_a_rerun_changes_nothing_and_a_crash_is_completed_by_the_retry(fraud_day):
    services = fraud_day
    store = services.stores.signals
    real_add, added = store.add, []

    def dies_after_two(signal):
        if len(added) == 2:
            raise RuntimeError("Lambda died mid-scan")
        added.append(signal.signal_id)
        return real_add(signal)

    store.add = dies_after_two
    with pytest.raises(RuntimeError):
        supervision_daily({}, None)
    assert len(_by_kind(services, LX)) == 2 and store.days(LX, "2026-11-24", 1)[-1].day == "2026-11-22"
    store.add = real_add
    first = supervision_daily({}, None)
    assert set(_by_kind(services, LX)) == KINDS
    before = {k: s.model_dump() for k, s in _by_kind(services, LX).items()}
    services.clock.advance(hours=5)
    again = supervision_daily({"day": DAY}, None)
    assert again["signals"] == first["signals"] and again["compliance_stored"] is False
    assert {k: s.model_dump() for k, s in _by_kind(services, LX).items()} == before


def _token(services, role, district=None):
    t = tokens.mint(services.token_key(), subject=f"{role.value}-{district}", role=role, now=services.clock.now(),
                    district_code=district)
    return {"Authorization": f"Bearer {t}", "Content-Type": "application/json"}


def test_the_district_reviews_its_signals_once(fraud_day, api):
    services = fraud_day
    supervision_daily({}, None)
    lx, xw = _token(services, Role.DISTRICT_ADMIN, "320213"), _token(services, Role.DISTRICT_ADMIN, "320214")
    aud = _token(services, Role.AUDITOR)
    listed = json.loads(api.get(f"/v1/admin/signals?from={DAY}&to={DAY}", headers=lx).body)["signals"]
    assert {s["kind"] for s in listed} == KINDS and all(s["state"] == "open" for s in listed)
    assert json.loads(api.get(f"/v1/admin/signals?from={DAY}&to={DAY}", headers=xw).body)["signals"] == []
    assert api.get(f"/v1/admin/signals?from={DAY}&to={DAY}&district=320213", headers=xw).status_code == 403
    sid = sig.signal_id("zero_charge_exits", LX, DAY)
    path = f"/v1/admin/signals/{sid}/review"
    assert api.post(path, headers=xw, body=json.dumps({"decision": "confirmed", "note": "x"})).status_code == 404
    assert api.post(path, headers=aud, body=json.dumps({"decision": "confirmed", "note": "x"})).status_code == 403
    bad = api.post(path, headers=lx, body=json.dumps({"decision": "maybe", "note": "x"}))
    assert bad.status_code == 400 and json.loads(bad.body)["code"] == "bad_decision"
    review = {"decision": "confirmed", "note": "CCTV: staff raised the barrier for 7 unpaid cars"}
    done = api.post(path, headers=lx, body=json.dumps(review))
    assert done.status_code == 200, done.body
    body = json.loads(done.body)
    assert body["state"] == "reviewed" and body["review"]["decision"] == "confirmed" and body["version"] == 2
    assert api.post(path, headers=lx, body=json.dumps(review)).status_code == 200  # the same review resent
    again = api.post(path, headers=lx, body=json.dumps({**review, "decision": "dismissed"}))
    assert again.status_code == 409 and json.loads(again.body)["code"] == "already_reviewed"
    open_now = json.loads(api.get(f"/v1/admin/signals?from={DAY}&to={DAY}&state=open", headers=aud).body)["signals"]
    assert sid not in {s["signal_id"] for s in open_now} and len(open_now) == len(KINDS) - 1
    history = json.loads(api.get(f"/v1/admin/compliance/history?from={DAY}&to={DAY}", headers=lx).body)["days"]
    assert [h["day"] for h in history] == [DAY] and history[0]["rate"]["lots"] == 2
    assert set(history[0]["supervision"][LX]["signals"]) == KINDS  # the day's signals beside the checklist
    city = json.loads(api.get(f"/v1/admin/compliance/history?from={DAY}&to={DAY}",
                              headers=_token(services, Role.CITY_ADMIN)).body)["days"]
    assert set(city[0]["by_district"]) == {"320213", "320214"}


def test_thresholds_keep_quiet_days_quiet():
    at = datetime(2026, 11, 23, 9, 0, tzinfo=SHANGHAI)

    def rec(kind, minutes, late_s=0, **event):
        occurred = at + timedelta(minutes=minutes)
        return sig.Record(kind, occurred, occurred + timedelta(seconds=late_s), {"type": kind, **event},
                          {"status": "accepted"})

    steady = [rec("occupancy", 0, total=100, free=90), *[rec("entry", m) for m in range(1, 9)],
              rec("occupancy", 30, total=100, free=82)]
    assert sig.occupancy_mismatch(steady, 100) is None
    fig = sig.figures("lot", DAY, steady, [])
    assert sig.late_reporting(fig, steady, []) is None
    usual = [sig.LotDay("lot", "d", exits=50, zero_charge=10)] * 3
    assert sig.zero_charge_exits(sig.LotDay("lot", DAY, exits=20, zero_charge=6), usual, None) is None  # 30 % vs 20 %
    assert sig.zero_charge_exits(sig.LotDay("lot", DAY, exits=20, zero_charge=9), usual, None) is not None
    assert sig.usual_rate([], 0.05) == (0.05, "other lots, same day")
    assert sig.closed_unpaid([("s1", 500), ("s2", 300)], 40) is None
    assert sig.parse_signal_id("late_reporting:lot:2026-11-23") == ("late_reporting", "lot", DAY)
    assert sig.parse_signal_id("nonsense:lot:day") is None and sig.parse_signal_id("a:b") is None
    assert date.fromisoformat(DAY)


def test_the_daily_scan_stores_the_hotspot_report_each_district_sees_its_own(fraud_day, api):
    """Utilisation by lot and hour from the day's archived events (S2), stored by the daily scan; the heat map
    as SVG for staff who would rather look than read; a district sees its own lots only."""
    services = fraud_day
    city = _token(services, Role.CITY_ADMIN)
    assert json.loads(api.get(f"/v1/admin/hotspots?day={DAY}", headers=city).body) == {"day": DAY, "stored": False}
    supervision_daily({}, None)
    report = json.loads(api.get(f"/v1/admin/hotspots?day={DAY}", headers=city).body)
    assert report["stored"] is True and report["day"] == DAY
    # 12 cars 09:01-13:24 and 6 entries held back since the 20th (still parked) on 100 spaces: 18 % at 11:00
    assert report["lots"][LX][11] == 0.18 and report["lots"][LX][3] == 0.06 and report["turnover"][LX] == 0.12
    assert report["hotspots"] == []  # nowhere near 85 %
    lx = json.loads(api.get(f"/v1/admin/hotspots?day={DAY}", headers=_token(services, Role.DISTRICT_ADMIN, "320213")).body)
    xw = json.loads(api.get(f"/v1/admin/hotspots?day={DAY}", headers=_token(services, Role.DISTRICT_ADMIN, "320214")).body)
    assert LX in lx["lots"] and LX not in xw["lots"] and set(xw["districts"]) <= {"320214"}
    svg = api.get(f"/v1/admin/hotspots?day={DAY}&format=svg", headers=city)
    assert svg.headers["Content-Type"].startswith("image/svg+xml") and svg.body.count(b"<rect") == 24 * len(report["lots"])
    assert api.get("/v1/admin/hotspots?day=tomorrow", headers=city).status_code == 400
