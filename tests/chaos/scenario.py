"""A seeded chaos scenario on the local stack, over the HTTP API: ``n`` stays whose entry and exit events
are each delivered 1-3 times, all shuffled together (so many exits arrive before their entries); every
third bill paid through two channels at once (both approved: an overpayment the platform must refund);
provider callbacks delivered twice each, newest first. Then the invariants:

- no session lost: every stay is one closed session with its true duration, whatever the order;
- no bill paid twice net of refunds: paid - refunded never exceeds what was owed, and nothing stays due;
- every exit-before-entry reconciled: no exit still waits for its entry;
- the ledger check is sound.

``run_pay_later`` adds crashes: pay-later citizens (half of whose saved methods decline, so their bills go
to arrears and are repaid through two channels at once) while the billing and arrears workflow tasks and
the provider callbacks die after their side effects, seeded, and are retried (the ASL's Retry, the
provider's redelivery). Same invariants, and every workflow succeeds, at most one off-session charge
succeeds per bill, every arrears case closes.

Used by tests/chaos/test_chaos.py (moderate size) and bench/bench_chaos.py (larger, with figures).
"""

from __future__ import annotations

import json
import random
from collections import Counter
from dataclasses import dataclass, field
from datetime import timedelta

from shared.clock import iso
from tests.support import CallbackPoster, advance_until

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
    if hasattr(stack, "pump_streams"):  # issue 10: on DynamoDB the acks stream adds to the lot's open count
        stack.pump_streams()
    open_now, counted = len(svc.sessions._store.open_in_lot(LOT)), svc.stores.status.get(LOT).open_count
    if counted != open_now:
        problems.append(f"the lot counts {counted} open sessions, {open_now} are open")

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


# --- Crashes: workflow tasks and callbacks die after their side effects, and are retried ---------------
RETRIED_TASKS = {"pay-later-billing": ("charge", "open_arrears"), "arrears-escalation": ("advance",)}
GRACE_SWEEP = "pay-later-grace"  # scheduled: a run that died is run again (EventBridge retries; the next run)


@dataclass
class CrashOutcome:
    citizens: int
    bills: int
    arrears_cases: int
    task_crashes: Counter
    callback_crashes: int
    callbacks: int  # callback posts, the ones answered 500 by a crash included
    problems: list[str] = field(default_factory=list)


class _Crashes:
    """Seeded crash injection. A workflow task (a retried Task state) runs, then its Lambda dies before
    answering, with probability ``rate`` on its first run for each bill or case: the ASL's Retry runs it
    again. A grace-end sweep run dies after its work with probability ``rate`` (the schedule runs again). A
    provider callback is applied, then the API dies (500) before answering, with probability
    ``rate`` on its first delivery: the provider delivers it again."""

    def __init__(self, svc, rng: random.Random, rate: float) -> None:
        import threading

        self.svc, self.rng, self.rate, self.lock = svc, rng, rate, threading.Lock()
        self.seen: set = set()
        self.tasks: Counter = Counter()
        self.callbacks = 0

    def _roll(self, key) -> bool:
        with self.lock:
            if key in self.seen:
                return False
            self.seen.add(key)
            return self.rng.random() < self.rate

    def __enter__(self):
        import importlib

        from infra.local import lambda_dispatch
        from shared import resources

        self._overridden = []
        for logical, actions in RETRIED_TASKS.items():
            spec = resources.function(logical)
            module, attr = spec.handler.rsplit(".", 1)
            real = getattr(importlib.import_module(module), attr)

            def crashing(event, context, real=real, actions=actions):
                result = real(event, context)  # the side effects happen
                action = event.get("action")
                if action in actions and self._roll((action, event.get("bill_id"), event.get("case_id"), event.get("attempt"))):
                    with self.lock:
                        self.tasks[action] += 1
                    raise RuntimeError(f"chaos: the Lambda died after {action}, before answering")
                return result

            lambda_dispatch.override(spec.name, crashing)
            self._overridden.append(spec.name)
        sweep = resources.function(GRACE_SWEEP)
        module, attr = sweep.handler.rsplit(".", 1)
        real_sweep = getattr(importlib.import_module(module), attr)

        def crashing_sweep(event, context):
            result = real_sweep(event, context)
            if self._roll(("sweep", event.get("time"))):
                with self.lock:
                    self.tasks["grace_sweep"] += 1
                raise RuntimeError("chaos: the grace-end sweep died after its work, before answering")
            return result

        lambda_dispatch.override(sweep.name, crashing_sweep)
        self._overridden.append(sweep.name)
        payments = self.svc.payments
        real_callback = type(payments).callback.__get__(payments)

        def callback(provider, headers, raw_body):
            answer = real_callback(provider, headers, raw_body)  # applied
            if self._roll(("callback", bytes(raw_body))):
                with self.lock:
                    self.callbacks += 1
                raise RuntimeError("chaos: the API died after applying the callback, before answering")
            return answer

        payments.callback = callback
        return self

    def __exit__(self, *exc) -> None:
        from infra.local import lambda_dispatch

        for name in self._overridden:
            lambda_dispatch.override(name, None)
        del self.svc.payments.callback


class _RetryingPoster(CallbackPoster):
    """The provider's side: a delivery not answered 200 stays queued and is sent again."""

    def __call__(self, headers: dict, body: bytes) -> None:
        resp = self.api.post(f"/v1/payments/callbacks/{self.provider}", headers={**headers, "Content-Type": "application/json"}, body=body)
        self.responses.append((resp.status_code, resp.body))
        if resp.status_code != 200:
            raise ConnectionError(f"callback answered {resp.status_code}")


def _deliver_all(sandbox, poster, rounds: int = 50) -> int:
    sent = 0
    for _ in range(rounds):
        try:
            n = sandbox.deliver(poster)
        except ConnectionError:
            continue  # requeued by the provider: deliver again
        sent += n
        if not sandbox.pending_deliveries():
            return sent
    raise AssertionError("callbacks still undelivered")


def _grace_ends(stack, clock, bill_ids, runs: int = 20) -> None:
    """The grace periods end unpaid; the grace-end schedule fires until every bill's workflow started."""
    from infra.local import scheduler
    from shared import resources
    from shared.bills.model import PAY_LATER_GRACE

    clock.advance(PAY_LATER_GRACE.total_seconds())
    schedule = next(s for s in resources.SCHEDULES if s.function == GRACE_SWEEP)
    for _ in range(runs):
        scheduler.fire(schedule, clock.now())
        started = {e["name"] for e in stack.executions("pay-later-billing")}
        if all(b in started for b in bill_ids) and not stack.services.stores.money.bills_at_grace_end(clock.now()):
            return
        clock.advance(300)
    raise AssertionError("the grace-end sweep never started every billing workflow")


def run_pay_later(stack, api, clock, poster_for, citizens: int = 6, seed: int = 15, crash_rate: float = 0.5) -> CrashOutcome:
    """Pay-later stays of ``citizens`` registered citizens, half of whose saved methods decline (their bills
    go to arrears; those are then repaid through two channels at once), with task handlers and callbacks
    crashing after their side effects. Invariants: every stay one closed session; every workflow
    succeeds; no bill paid twice net of refunds, none left due; at most one successful off-session charge
    per bill; the ledger check sound."""
    from datetime import timedelta as td

    from shared.arrears.model import case_id_for
    from shared.auth import Role
    from shared.payments.model import PaymentSource, PaymentState
    from shared.tokens import mint

    rng = random.Random(seed * 7919)
    svc = stack.services
    sandbox = svc.providers["sandbox"]
    plates, declining = [], []
    for n in range(citizens):
        token = mint(svc.token_key(), subject=f"chaos-citizen-{n}", role=Role.CITIZEN, now=clock.now(), ttl=td(days=400))
        headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}

        def call(method, path, body=None, headers=headers):
            resp = getattr(api, method)(path, headers=headers, body=json.dumps(body or {}))
            assert resp.status_code < 300, resp.body
            return json.loads(resp.body)

        plate = f"苏E{20000 + n:05d}"
        call("post", "/v1/me/account", {"consent": True})
        call("post", "/v1/me/plates", {"plate": plate})
        call("post", "/v1/me/plates/verify", {"plate": plate, "code": svc.plate_verifier.sent[plate]})
        assert call("post", "/v1/me/payment-method")["ready"] is True
        if n % 2:
            method = svc.citizens.owner(plate).method
            sandbox.configure(decline_payment_methods={*sandbox.behaviour.decline_payment_methods, method.payment_method_ref})
            declining.append(plate)
        plates.append(plate)

    problems: list[str] = []
    cams = {"entry": poster_for("lx-in1"), "exit": poster_for("lx-out1")}
    poster = _RetryingPoster(api, "sandbox")
    with _Crashes(svc, rng, crash_rate) as crashes:
        for n, plate in enumerate(plates):
            entered = clock.now() - td(hours=5)  # in the past: devices report what happened
            exited = entered + td(minutes=rng.randint(45, 240))
            for kind, at in (("entry", entered), ("exit", exited), ("exit", exited)):  # the exit resent once
                status, body = cams[kind].post(_event(kind, plate, at, 900 + n) | {"event_id": f"chaos-pl-{kind}-{n}"})
                assert status == 200, body
        bills = {plate: [b for b in svc.billing.of_plate(plate) if b.pay_later] for plate in plates}
        for plate, found in bills.items():
            if len(found) != 1:
                problems.append(f"{plate}: {len(found)} pay-later bills")
        ids = [b.bill_id for found in bills.values() for b in found]
        _grace_ends(stack, clock, ids)

        def billing_done():
            runs = {e["name"]: e for e in stack.executions("pay-later-billing")}
            return all(i in runs and runs[i]["status"] != "RUNNING" for i in ids)

        advance_until(stack, billing_done, "every billing workflow ends", limit=4000)
        cases = [case_id_for(b) for b in ids if svc.arrears._cases.get(case_id_for(b)) is not None]
        advance_until(stack, lambda: all(svc.arrears._cases.get(c).steps_done for c in cases), "the ladders start", limit=4000)
        for case_id in cases:  # the keeper repays through two channels at once: one is refunded
            bill_id = svc.arrears._cases.get(case_id).bill_id
            refs = []
            for channel in ("wechat_pay", "alipay"):
                resp = api.post(f"/v1/bills/{bill_id}/payments", headers={"Content-Type": "application/json"},
                                body=json.dumps({"channel": channel}))  # fmt: skip
                if resp.status_code == 201:
                    refs.append(svc.payments.payment(json.loads(resp.body)["payment_id"]).provider_ref)
            for ref in refs:
                sandbox.approve(ref)
        for _ in range(4):  # refunds of overpayments are confirmed by callbacks too
            _deliver_all(sandbox, poster)

        def arrears_done():
            runs = {e["name"]: e for e in stack.executions("arrears-escalation")}
            return all(c in runs and runs[c]["status"] != "RUNNING" for c in cases)

        advance_until(stack, arrears_done, "every arrears workflow ends", limit=4000)
        _deliver_all(sandbox, poster)

    for machine in ("pay-later-billing", "arrears-escalation"):
        for run_ in stack.executions(machine):
            if run_["status"] != "SUCCEEDED" and (run_["name"] in ids or run_["name"] in cases):
                problems.append(f"{machine} {run_['name']}: {run_['status']}")
    for plate in plates:
        for bill in svc.billing.of_plate(plate):
            owed = bill.amount_fen - bill.discount_fen - bill.adjusted_fen - bill.written_off_fen
            if bill.paid_fen - bill.refunded_fen > owed:
                problems.append(f"{bill.bill_id}: paid {bill.paid_fen} - refunded {bill.refunded_fen} > owed {owed}")
            if bill.due_fen:
                problems.append(f"{bill.bill_id}: {bill.due_fen} still due")
            charged = [p for p in map(svc.payments.payment, bill.payments)
                       if p.source is PaymentSource.OFF_SESSION and p.state is PaymentState.SUCCEEDED]  # fmt: skip
            if len(charged) > 1:
                problems.append(f"{bill.bill_id}: {len(charged)} off-session charges succeeded")
        sessions = {b.session_id for b in svc.billing.of_plate(plate)}
        if len(sessions) != 1 or any((s := svc.sessions.get(i)) is None or s.status.value != "closed" for i in sessions):
            problems.append(f"{plate}: sessions {sessions}")
    for case_id in cases:
        case = svc.arrears._cases.get(case_id)
        if case.state.value != "closed":
            problems.append(f"{case_id}: {case.state.value}")
    if len(cases) != len(declining):
        problems.append(f"{len(cases)} arrears cases for {len(declining)} declining methods")
    problems += [f"ledger: {p}" for p in svc.ledger.check()]
    return CrashOutcome(citizens=citizens, bills=len(ids), arrears_cases=len(cases), task_crashes=crashes.tasks,
                        callback_crashes=crashes.callbacks, callbacks=len(poster.responses), problems=problems)  # fmt: skip
