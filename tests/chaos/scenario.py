"""A seeded chaos scenario on the local stack, over the HTTP API: ``n`` stays whose entry and exit events
are each delivered 1-3 times, all shuffled together (so many exits arrive before their entries); every
third bill paid through two channels at once (both approved: an overpayment the platform must refund);
provider callbacks delivered twice each, newest first. Then the invariants:

- no session lost: every stay is one closed session with its true duration, whatever the order;
- no bill paid twice net of refunds: paid - refunded never exceeds what was owed, and nothing stays due;
- every exit-before-entry reconciled: no exit still waits for its entry;
- the ledger check is sound.

Used by tests/chaos/test_chaos.py (moderate size) and bench/bench_chaos.py (larger, with figures).
"""

from __future__ import annotations

import json
import random
from collections import Counter
from dataclasses import dataclass, field
from datetime import timedelta

from shared.clock import iso
from tests.support import CallbackPoster

LOT = "lx-nanchang-st-01"


@dataclass
class Outcome:
    stays: int
    deliveries: int
    exits_before_entries: int
    double_paid: int
    callbacks: int
    refunds: int
    problems: list[str] = field(default_factory=list)


def _event(kind: str, plate: str, at, n: int) -> dict:
    return {"event_id": f"chaos-{kind}-{n}", "type": kind, "lot_id": LOT, "occurred_at": iso(at), "plate": plate,
            "plate_colour": "blue", "lane": "in-1" if kind == "entry" else "out-1", "confidence": 0.97}  # fmt: skip


def run(stack, api, clock, poster_for, n: int = 60, seed: int = 15) -> Outcome:
    """``poster_for(device_id)`` gives a signed poster (tests' ``device`` fixture)."""
    rng = random.Random(seed)
    svc = stack.services
    start = clock.now() - timedelta(hours=8)
    stays = []
    for i in range(n):
        plate = f"苏B{10000 + i:05d}"
        entered = start + timedelta(seconds=37 * i)
        exited = entered + timedelta(minutes=rng.randint(45, 240))
        stays.append((plate, entered, exited, i))
    deliveries = [(kind, stay) for stay in stays for kind in ("entry", "exit") for _ in range(rng.randint(1, 3))]
    rng.shuffle(deliveries)

    seen_entry, exits_first, acks = set(), 0, {}
    cams = {"entry": poster_for("lx-in1"), "exit": poster_for("lx-out1")}
    for kind, (plate, entered, exited, i) in deliveries:
        if kind == "exit" and plate not in seen_entry and (plate, "exit") not in acks:
            exits_first += 1
        seen_entry.add(plate) if kind == "entry" else None
        status, body = cams[kind].post(_event(kind, plate, entered if kind == "entry" else exited, i))
        assert status == 200, body
        acks.setdefault((plate, kind), []).append(body["acks"][0])

    problems = []
    for plate, entered, exited, _ in stays:
        ids = {a.get("session_id") for k in ("entry", "exit") for a in acks[(plate, k)]}
        if len(ids) != 1 or None in ids:
            problems.append(f"{plate}: sessions {ids}")
            continue
        session = svc.sessions.get(ids.pop())
        if session is None or session.status.value != "closed" or session.duration_s != int((exited - entered).total_seconds()):
            problems.append(f"{plate}: session {session and session.status.value} {session and session.duration_s}")
    if svc.sessions._store.unmatched_in_lot(LOT):
        problems.append(f"{len(svc.sessions._store.unmatched_in_lot(LOT))} exits still wait for their entry")

    # Two channels for every third bill, both approved; callbacks duplicated and newest first
    sandbox = svc.providers["sandbox"]
    double = 0
    for plate, *_ in stays[::3]:
        bills = [b for b in svc.billing.of_plate(plate) if b.due_fen > 0]
        for bill in bills:
            refs = []
            for channel in ("wechat_pay", "alipay"):
                resp = api.post(f"/v1/bills/{bill.bill_id}/payments", headers={"Content-Type": "application/json"},
                                body=json.dumps({"channel": channel}))
                if resp.status_code == 201:
                    refs.append(svc.payments.payment(json.loads(resp.body)["payment_id"]).provider_ref)
            for ref in refs:
                sandbox.approve(ref)
            double += len(refs) == 2
    sandbox.configure(duplicates=1, reverse_order=True)
    poster = CallbackPoster(api, "sandbox")
    callbacks = sandbox.deliver(poster)
    for _ in range(3):  # refunds of overpayments are themselves confirmed by callbacks
        callbacks += sandbox.deliver(poster)
    outcomes = Counter(json.loads(body)["outcome"] for _, body in poster.responses)

    for plate, *_ in stays:
        for bill in svc.billing.of_plate(plate):
            owed = bill.amount_fen - bill.discount_fen - bill.adjusted_fen - bill.written_off_fen
            if bill.paid_fen - bill.refunded_fen > owed:
                problems.append(f"{bill.bill_id}: paid {bill.paid_fen} - refunded {bill.refunded_fen} > owed {owed}")
            if bill.paid_fen and bill.due_fen:
                problems.append(f"{bill.bill_id}: paid yet {bill.due_fen} due")
    problems += [f"ledger: {p}" for p in svc.ledger.check()]
    return Outcome(stays=n, deliveries=len(deliveries), exits_before_entries=exits_first, double_paid=double,
                   callbacks=callbacks, refunds=outcomes.get("refunded", 0) + outcomes.get("refund_applied", 0), problems=problems)
