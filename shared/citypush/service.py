"""The city push (S5): queue what the city operation platform wants, deliver the outbox.

Every run (every few minutes): queue each lot's live occupancy for the current 5-minute slot, queue each
lot's daily statistics once its operator's statement for yesterday is issued, then deliver. Queuing is
idempotent (the push id is derived from lot and slot or day), so a re-run or a retry after a crash queues
nothing twice; delivery sends a lot's pushes in order and stops at the first failure of that lot.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import timedelta

from shared.auth import Principal
from shared.citypush import model
from shared.citypush.model import Push, PushState
from shared.citypush.ports import PushStore, Target, Transport
from shared.clock import SHANGHAI, Clock, iso
from shared.errors import Forbidden, NotFound
from shared.observability import count, logger
from shared.protocol import signing

PER_LOT_PER_RUN = 20
IDEMPOTENCY_HEADER = "Idempotency-Key"


def may_see_pushes(principal: Principal) -> None:
    """The outbox is city-wide plumbing: city staff and auditors see it; only city staff requeue."""
    if not principal.is_city:
        raise Forbidden("the city push outbox is for city staff and auditors", code="role_forbidden")


class CityPushService:
    def __init__(self, store: PushStore, transport: Transport, target: Target, lots, occupancy: Callable,
                 statements, clock: Clock) -> None:
        """``lots``: has ``list()`` of registered lots; ``occupancy(lot_ids)``: lot id -> status with
        ``reported_total``, ``reported_free``, ``open_count``, ``online``; ``statements``: has
        ``get(operator_id, day)`` returning an issued statement or None."""
        self._store, self._transport, self._target = store, transport, target
        self._lots, self._occupancy, self._statements, self._clock = lots, occupancy, statements, clock

    def run(self) -> dict:
        queued = self.queue_occupancy() + self.queue_daily()
        return {"queued": queued, **self.deliver()}

    def _queue(self, lot_id: str, kind: str, push_id: str, body: dict) -> int:
        now = self._clock.now()
        push = Push(push_id=push_id, lot_id=lot_id, kind=kind, body={"push_id": push_id, "kind": kind, **body},
                    queued_at=now, next_attempt_at=now)
        return 1 if self._store.add(push) else 0

    def queue_occupancy(self) -> int:
        now = self._clock.now()
        slot = model.slot_of(now.astimezone(SHANGHAI))
        lots = self._lots.list()
        status = self._occupancy([lot.lot_id for lot in lots])
        queued = 0
        for lot in lots:
            s = status.get(lot.lot_id)
            total = s.reported_total if s and s.reported_total is not None else lot.capacity
            free = s.reported_free if s and s.reported_free is not None else max(0, lot.capacity - (s.open_count if s else 0))
            body = {"lot_id": lot.lot_id, "district_code": lot.district_code, "slot": iso(slot), "total": total,
                    "free": free, "occupied": total - free, "online": s.online if s else None}
            queued += self._queue(lot.lot_id, "occupancy", model.occupancy_key(lot.lot_id, slot), body)
        return queued

    def queue_daily(self) -> int:
        """Yesterday's statistics per lot, once its operator's statement is issued (settlement runs first)."""
        day = (self._clock.now().astimezone(SHANGHAI).date() - timedelta(days=1)).isoformat()
        queued, by_operator = 0, {}
        for lot in self._lots.list():
            if lot.operator_id not in by_operator:
                by_operator[lot.operator_id] = self._statements.get(lot.operator_id, day)
            st = by_operator[lot.operator_id]
            if st is None:
                continue
            figures = st.lots.get(lot.lot_id)
            sessions = figures.sessions if figures else 0
            body = {"lot_id": lot.lot_id, "district_code": lot.district_code, "day": day, "sessions": sessions,
                    "turnover": round(sessions / lot.capacity, 3),
                    "revenue_fen": figures.net_revenue_fen if figures else 0, "statement_id": st.statement_id}
            queued += self._queue(lot.lot_id, "daily_stats", model.daily_key(lot.lot_id, day), body)
        return queued

    def deliver(self) -> dict:
        tally = {"delivered": 0, "failed": 0, "waiting": 0, "dead": 0}
        if not self._target.url:
            logger.warning("city push target not configured; pushes wait in the outbox")
            return tally
        now = self._clock.now()
        for lot_id in self._store.lots():
            for push in self._store.head(lot_id, PER_LOT_PER_RUN):
                if push.state is PushState.DELIVERED:  # marked, but the lot was not moved past it (a crash)
                    self._store.delivered(push)
                    continue
                if push.next_attempt_at > now:
                    tally["waiting"] += 1
                    break  # in order: nothing behind it goes first
                if not self._send(push, now, tally):
                    break
        count("CityPushDead", tally["dead"])
        return tally

    def _send(self, push: Push, now, tally: dict) -> bool:
        body = json.dumps(push.body, ensure_ascii=False, sort_keys=True).encode()
        headers = signing.signed_headers(self._target.key_id, self._target.secret, body, int(now.timestamp()))
        headers[IDEMPOTENCY_HEADER] = push.push_id
        status, error = self._transport.send(self._target.url, body, headers, self._target.timeout_s)
        if status is not None and 200 <= status < 300:
            self._store.update(model.delivered(push, now))
            self._store.delivered(push)
            tally["delivered"] += 1
            return True
        after = model.failed(push, error or f"HTTP {status}", now)
        self._store.update(after)
        tally["failed"] += 1
        if after.state is PushState.DEAD:
            tally["dead"] += 1
            logger.error("city push dead", extra={"push_id": push.push_id, "attempts": after.attempts, "error": after.last_error})
        return False

    # Staff
    def outbox(self, principal: Principal, state: str | None = None) -> list[Push]:
        may_see_pushes(principal)
        return [p for p in self._store.undelivered() if state in (None, p.state.value)]

    def requeue(self, principal: Principal, push_id: str) -> Push:
        """Retry a push at the next run (after the platform's outage is over), keeping its place in order."""
        if not principal.is_city or principal.role.value != "city_admin":
            raise Forbidden("only city staff requeue pushes", code="role_forbidden")
        push = self._store.get(push_id)
        if push is None or push.state is PushState.DELIVERED:
            raise NotFound(f"no undelivered push {push_id}", code="unknown_push")
        again = push.model_copy(update={"next_attempt_at": self._clock.now()})
        self._store.update(again)
        return again
