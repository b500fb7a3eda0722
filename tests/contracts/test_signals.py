"""The SignalStore contract (``shared.supervision.ports``) on both adapters: figures, signals and compliance
snapshots put-if-absent; a review replaces only over the previous version; district and day ranges."""

from __future__ import annotations

from datetime import datetime

from shared.clock import SHANGHAI
from shared.supervision.signals import LotDay, Signal, signal_id


def _signal(kind, lot, day, district="320213"):
    return Signal(signal_id=signal_id(kind, lot, day), kind=kind, lot_id=lot, district_code=district, operator_id="op",
                  day=day, detected_at=datetime(2026, 11, 24, 4, tzinfo=SHANGHAI), explanation="why", numbers={"n": 1})


def test_signals_figures_and_snapshots(stores, uid):
    store = stores.signals
    lot, district = f"lot-{uid}", f"d{uid}"
    assert store.add_day(LotDay(lot, "2026-11-21", exits=10, zero_charge=1)) is True
    assert store.add_day(LotDay(lot, "2026-11-21", exits=99)) is False  # the first figures stand
    store.add_day(LotDay(lot, "2026-11-22", exits=20, manual=2))
    store.add_day(LotDay(lot, "2026-11-23", exits=30))
    assert [d.exits for d in store.days(lot, "2026-11-23", 5)] == [10, 20]  # before the day, oldest first
    assert [d.exits for d in store.days(lot, "2026-11-24", 1)] == [30]

    a = _signal("late_reporting", lot, "2026-11-22", district)
    b = _signal("closed_unpaid", lot, "2026-11-23", district)
    assert store.add(a) and store.add(b) and not store.add(a)
    assert store.get(a.signal_id) == a and store.get(signal_id("closed_unpaid", lot, "2026-11-01")) is None
    assert [s.signal_id for s in store.of_district(district, "2026-11-22", "2026-11-23")] == [a.signal_id, b.signal_id]
    assert [s.signal_id for s in store.of_district(district, "2026-11-23", "2026-11-23")] == [b.signal_id]
    reviewed = a.model_copy(update={"version": 2, "review": {"decision": "dismissed", "note": "ok", "by": "x", "at": "t"}})
    assert store.replace(reviewed) is True and store.replace(reviewed) is False  # only over version 1
    assert store.get(a.signal_id).review["decision"] == "dismissed"

    day = f"2030-01-{int(uid.split('-')[0]) % 28 + 1:02d}"
    assert store.add_compliance(day, {"day": day, "overall": {"rate": 0.5}}) is True
    assert store.add_compliance(day, {"day": day, "overall": {"rate": 0.9}}) is False
    assert [c["overall"]["rate"] for c in store.compliance(day, day)] == [0.5]
