"""Correction and void messages (S16) through the signed device API on memory stores: the session and its
bill follow, by balanced postings, never by rewriting; a resend is a duplicate; a crash between the
session and the bill is healed by the resend; the scan counts them per lot. Time moved by the test."""

from __future__ import annotations

import json
from datetime import datetime, timedelta

from shared.archive.writer import ArchivedEvent
from shared.bills.model import bill_id_for
from shared.clock import SHANGHAI, iso
from shared.ledger.accounts import Account
from shared.tariffs.samples import DAY_NIGHT
from tests.support import CallbackPoster, gate_event, price_lot

LX = "lx-nanchang-st-01"


def _stay(device, clock, plate, hours, **exit_extra):
    entry = gate_event("entry", plate, clock.now())
    _, body = device("lx-in1").post(entry)
    clock.advance(hours=hours)
    exit_ = gate_event("exit", plate, clock.now(), **exit_extra)
    _, out = device("lx-out1").post(exit_)
    return entry, exit_, out["acks"][0]


def _msg(kind, event_id, clock, **fields):
    return {"type": kind, "event_id": event_id, "lot_id": LX, "occurred_at": iso(clock.now()), **fields}


def _pay(api, services, bill_id):
    resp = api.post(f"/v1/pay/{LX}/payments", headers={"Content-Type": "application/json"},
                    body=json.dumps({"bill_id": bill_id, "channel": "wechat_pay"}))
    assert resp.status_code == 201, resp.body
    payment = services.payments.payment(json.loads(resp.body)["payment_id"])
    services.providers["sandbox"].approve(payment.provider_ref)
    services.providers["sandbox"].deliver(CallbackPoster(api, "sandbox"))


def test_a_corrected_exit_reprices_the_bill_with_an_adjustment_and_a_resend_changes_nothing(api, clock, city, device, services):
    price_lot(services, LX, DAY_NIGHT)
    entry, exit_, ack = _stay(device, clock, "苏B10001", hours=3)
    bill = services.stores.money.bill(bill_id_for(ack["session_id"]))
    three_hours = bill.amount_fen
    revenue = services.ledger.balance(Account.operator_revenue("wx-city-parking"))
    fix = _msg("correction", "corr-1", clock, corrects=exit_["event_id"],
               corrected_time=iso(datetime.fromisoformat(exit_["occurred_at"]) - timedelta(hours=2)),
               reason="exit camera clock two hours fast")
    status, body = device("lx-in1").post(fix)
    assert status == 200 and body["acks"][0]["flags"] == ["corrected"], body
    after = services.stores.money.bill(bill.bill_id)
    one_hour = services.tariffs.price(services.registry.lots.require(LX), bill.entered_at, after.exited_at,
                                      "small", "blue").amount_fen
    assert one_hour < three_hours
    assert after.amount_fen == three_hours and after.adjusted_fen == three_hours - one_hour  # nothing rewritten
    assert after.balance_fen == one_hour and after.exited_at == datetime.fromisoformat(fix["corrected_time"])
    cut = services.ledger.balance(Account.operator_revenue("wx-city-parking")) - revenue
    assert cut == three_hours - one_hour  # revenue is a credit (negative) balance: the adjustment debits it
    assert services.ledger.check() == []
    session = services.stores.sessions.get(ack["session_id"])
    assert session.corrections[0]["from"] == exit_["occurred_at"] and "corrected_by_lot" in session.flags
    status, again = device("lx-in1").post(fix)
    assert again["acks"][0]["status"] == "duplicate" and services.stores.money.bill(bill.bill_id) == after
    # Corrections that cannot apply are rejected, each with its reason, and write nothing
    for event_id, fields, reason in (
        ("corr-2", {"corrects": "never-sent", "corrected_time": iso(clock.now())}, "unknown_original"),
        ("corr-3", {"corrects": entry["event_id"], "corrected_time": iso(clock.now())}, "bad_corrected_time"),
        ("corr-4", {"corrects": exit_["event_id"], "corrected_time": iso(clock.now() + timedelta(hours=1))}, "bad_corrected_time"),
    ):
        _, out = device("lx-in1").post(_msg("correction", event_id, clock, reason="x", **fields))
        assert out["acks"][0]["reason"] == reason, out
    assert services.stores.money.bill(bill.bill_id) == after


def test_a_longer_corrected_stay_is_charged_the_difference(api, clock, city, device, services):
    price_lot(services, LX, DAY_NIGHT)
    entry, exit_, ack = _stay(device, clock, "苏B10002", hours=1)
    before = services.stores.money.bill(bill_id_for(ack["session_id"]))
    earlier = iso(datetime.fromisoformat(entry["occurred_at"]) - timedelta(hours=3))
    _, body = device("lx-in1").post(_msg("correction", "corr-e", clock, corrects=entry["event_id"], corrected_time=earlier,
                                         reason="entry camera was offline; entry time from the ticket machine"))
    assert body["acks"][0]["status"] == "accepted", body
    after = services.stores.money.bill(before.bill_id)
    assert after.amount_fen > before.amount_fen and after.adjusted_fen == 0 and after.entered_at.isoformat() == earlier
    assert services.ledger.check() == []


def test_a_void_of_a_paid_phantom_refunds_it_and_of_an_open_one_frees_the_plate(api, clock, city, device, services):
    price_lot(services, LX, DAY_NIGHT)
    entry, exit_, ack = _stay(device, clock, "苏B10003", hours=2)
    bill_id = bill_id_for(ack["session_id"])
    _pay(api, services, bill_id)
    paid = services.stores.money.bill(bill_id)
    assert paid.due_fen == 0 and paid.paid_fen > 0
    _, body = device("lx-in1").post(_msg("void", "void-1", clock, voids=entry["event_id"], reason="test car of the installer"))
    assert body["acks"][0]["flags"] == ["voided"], body
    void = services.stores.money.bill(bill_id)
    assert void.adjusted_fen == paid.amount_fen and void.refunded_fen == paid.paid_fen and void.balance_fen == 0
    assert services.ledger.check() == []
    _, body = device("lx-in1").post(_msg("void", "void-2", clock, voids=entry["event_id"], reason="again"))
    assert body["acks"][0]["reason"] == "already_void"
    # An open phantom: the void closes it and the plate's next entry opens a fresh session
    phantom = gate_event("entry", "苏B10004", clock.now())
    _, opened = device("lx-in1").post(phantom)
    open_before = services.stores.status.get(LX).open_count
    _, body = device("lx-in1").post(_msg("void", "void-3", clock, voids=phantom["event_id"], reason="misread of 苏B10007"))
    assert body["acks"][0]["status"] == "accepted"
    assert services.stores.status.get(LX).open_count == open_before - 1
    assert services.stores.sessions.open_for(LX, "P#苏B10004") is None


def test_a_crash_between_session_and_bill_is_healed_by_the_resend(api, clock, city, device, services):
    price_lot(services, LX, DAY_NIGHT)
    entry, exit_, ack = _stay(device, clock, "苏B10005", hours=3)
    bill_id = bill_id_for(ack["session_id"])
    corrections = services.ingest.corrections
    real = corrections.settle
    corrections.settle = lambda *a: (_ for _ in ()).throw(RuntimeError("Lambda died after the session write"))
    fix = _msg("correction", "corr-c", clock, corrects=exit_["event_id"],
               corrected_time=iso(datetime.fromisoformat(exit_["occurred_at"]) - timedelta(hours=2)), reason="clock")
    try:
        device("lx-in1").post(fix)
    except RuntimeError:
        pass
    assert services.stores.money.bill(bill_id).adjusted_fen == 0  # the session moved, the bill not yet
    corrections.settle = real
    _, body = device("lx-in1").post(fix)
    assert body["acks"][0]["status"] == "duplicate"
    assert services.stores.money.bill(bill_id).adjusted_fen > 0 and services.ledger.check() == []


def test_the_scan_counts_corrections_per_lot(api, clock, city, device, services):
    price_lot(services, LX, DAY_NIGHT)
    for n in range(6):
        entry, exit_, _ = _stay(device, clock, f"苏B2000{n}", hours=1)
        device("lx-in1").post(_msg("correction", f"corr-{n}", clock, corrects=exit_["event_id"],
                                   corrected_time=iso(clock.now() - timedelta(minutes=30)), reason="clock drift"))
    services.archive.write([ArchivedEvent.from_image(i) for i in services.stores.acks.items.values()])
    day = clock.now().astimezone(SHANGHAI).date()
    clock.advance(days=1)
    out = services.signals.scan(day)
    assert f"frequent_corrections:{LX}:{day}" in out["signals"]
    signal = services.signals._store.get(f"frequent_corrections:{LX}:{day}")
    assert signal.numbers == {"corrections": 6, "voids": 0, "vehicle_events": 12, "threshold": 5}
    services.signals.record_compliance(services.compliance.snapshot(), day)
    [snap] = services.stores.signals.compliance(day.isoformat(), day.isoformat())
    mine = snap["supervision"][LX]  # the day's corrections beside the lot's checklist (the cars left unpaid too)
    assert (mine["corrections"], mine["voids"]) == (6, 0) and "frequent_corrections" in mine["signals"]
