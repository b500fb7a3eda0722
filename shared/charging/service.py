"""EV charging with parking: the lot's charging policy, recording reported charging sessions, and the
charging lines of a stay's price (the pricer hook), and the staff's view of a lot's charging sessions
with idle occupancy."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, timedelta

from shared.auth import Principal, Role
from shared.charging import model
from shared.charging.model import ChargingPolicy, ChargingRecord
from shared.charging.ports import ChargingStore
from shared.clock import SHANGHAI, Clock
from shared.errors import Forbidden, InvalidInput
from shared.protocol.events import ChargingSessionEvent
from shared.registry.model import Lot
from shared.scenarios import manages_lot, put_policy, with_lines

# A charging session counts for a stay if it started before the stay's end and at most this long before
# the car entered (a car that charged, left and came back is another stay; its charge is not this one's).
LOOKBACK = timedelta(days=2)




class ChargingService:
    def __init__(self, store: ChargingStore, lot: Callable[[str], Lot], clock: Clock,
                 late: Callable[[str, Lot, datetime, datetime], None] | None = None,
                 flag_lot: Callable[[str], object] | None = None) -> None:  # fmt: skip
        self._store, self._lot, self._clock = store, lot, clock
        self._flag_lot = flag_lot  # marks the lot as having scenario policies (Lot.scenario_policies)
        # A report that arrives after the stay was billed lowers the bill (and refunds, if it was paid): the
        # composition root passes billing's lower_stays followed by payments' price_lowered.
        self._late = late

    def put_policy(self, principal: Principal, lot_id: str, data: dict) -> ChargingPolicy:
        return put_policy(self._store, self._lot(lot_id), ChargingPolicy, principal, data, self._clock.now(),
                          self._flag_lot, "charging policy")

    def report(self, event: ChargingSessionEvent, lot: Lot, device_id: str) -> None:
        """The ingest hook: store the session once (a resend stores nothing), then lower the bills of stays
        already priced without it. That step runs on a resend too: a crash after the record is repaired by
        the device's retry (lowering and refunding are idempotent)."""
        self._store.record(ChargingRecord(
            lot_id=lot.lot_id, event_id=event.event_id, plate=event.plate, charger_id=event.charger_id,
            started_at=event.started_at, ended_at=event.ended_at, energy_wh=event.energy_wh,
            bay_left_at=event.bay_left_at, device_id=device_id, reported_at=self._clock.now(),
        ))  # fmt: skip
        policy = self._store.policy(lot.lot_id) if self._late is not None else None
        if policy is not None:
            self._late(event.plate, lot, event.started_at, event.ended_at + timedelta(minutes=policy.grace_minutes))

    def adjust(self, quote, lot: Lot, entered_at: datetime, until: datetime, plate: str,
               price: Callable[[datetime, datetime], int]):  # fmt: skip
        """The pricer hook: the tariff's quote with the stay's charging lines, or the quote unchanged."""
        policy = self._store.policy(lot.lot_id)
        if policy is None:
            return quote
        records = [r for r in self._store.of_plate(lot.lot_id, plate, until) if r.ended_at >= entered_at - LOOKBACK]
        lines = model.adjustments(policy, records, entered_at, until, lambda t: price(entered_at, t)) if records else []
        return with_lines(quote, lines)

    def sessions(self, principal: Principal, lot_id: str, day: str) -> list[dict]:
        """Staff and auditors: a day's charging sessions with their idle occupancy."""
        lot = self._lot(lot_id)
        if not (principal.role is Role.AUDITOR or manages_lot(principal, lot)):
            raise Forbidden(f"{principal.subject} may not read charging sessions of lot {lot_id}", code="lot_forbidden")
        try:
            start = datetime.combine(date.fromisoformat(day), datetime.min.time(), SHANGHAI)
        except ValueError:
            raise InvalidInput("date is YYYY-MM-DD", code="bad_query") from None
        policy = self._store.policy(lot_id)
        out = []
        for r in self._store.of_lot(lot_id, start, start + timedelta(days=1)):
            row = r.model_dump(mode="json")
            if policy is not None:
                row |= {"idle_minutes": r.idle_minutes(policy), "idle_fee_fen": r.idle_fee_fen(policy)}
            out.append(row)
        return out
