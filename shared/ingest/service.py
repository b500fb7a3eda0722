"""The device gateway: one request in, one acknowledgement per event out.

Request-level failures (signature, size, JSON, a lot that is not the device's) refuse the whole
request; event-level failures reject that event only, so a batch's good events are never lost
because of a bad neighbour.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from pydantic import TypeAdapter, ValidationError

from shared.availability.ports import LotStatusStore
from shared.clock import SHANGHAI, Clock
from shared.errors import DomainError, Forbidden, InvalidInput, PayloadTooLarge
from shared.ingest.authenticate import DeviceAuthenticator
from shared.jsonbody import parse_json
from shared.ingest.ports import AckRecord, AckStore, DeviceSeen, Lookahead, NonceClaim, ReadAhead
from shared.observability import count, logger, masked
from shared.protocol import lot_systems
from shared.protocol.events import (
    MAX_BATCH,
    MAX_BODY_BYTES,
    Ack,
    AckStatus,
    BerthEndEvent,
    BerthStartEvent,
    ChargingSessionEvent,
    CorrectionEvent,
    DeviceEvent,
    EntryEvent,
    ExitEvent,
    HeartbeatEvent,
    LegacyPaymentEvent,
    OccupancyEvent,
    PaymentReport,
    VoidEvent,
)
from shared.registry.model import Device, DeviceKind, Lot, LotKind, events_allowed
from shared.registry.ports import LotStore
from shared.sessions.service import SessionService

_EVENT = TypeAdapter(DeviceEvent)
_LOT_ID = re.compile(r"^[A-Za-z0-9_\-]{1,64}$")  # LotId: anything else is that event's invalid_event, never a lookup
FUTURE_TOLERANCE = timedelta(minutes=5)
OLDEST_ACCEPTED = timedelta(days=35)  # devices buffer events through network cuts
# A device's last-seen (issue 10). Where the acks table has a stream (DynamoDB: ``seen_from_stream``), a
# request that stores an event's ack writes none: the archive writer records each lot device's newest
# acceptance once per stream batch (``shared.archive.writer``), a lag of the stream's batching window (5 s).
# A request that stores no ack (duplicates, rejections; every request on memory stores) writes it itself, and
# only when this process has not stored one for the device within this: what this process stored is a lower
# bound of the stored time, which only moves forward, so no read is needed to know it is fresh. Liveness
# (``shared.supervision.liveness``) calls a lot silent after its heartbeat window, at least 60 s and 600 s by
# default; the stored time may lag by up to this much, so it is kept at most a tenth of the lot's window
# (``last_seen_every``): a device posting keeps its lot online (``tests/governance/test_last_seen_lag.py``).
LAST_SEEN_EVERY = timedelta(seconds=60)


def last_seen_every(lot: Lot) -> timedelta:
    """How stale a device's stored last-seen may get before a request writes it again."""
    return min(LAST_SEEN_EVERY, timedelta(seconds=lot.heartbeat_window_s) / 10)


@dataclass
class IngestResult:
    acks: list[Ack]
    single: bool


VEHICLE_TYPES = ("entry", "exit", "berth_start", "berth_end")
# A request of one event of these types keeps its nonce on the event's ack (issue 10): each stores everything it
# changes in the same write as its ack (the session transaction, the occupancy count's, a heartbeat's ack
# alone), so an ack found means the request was applied, and the same request again finds its nonce there.
# Legacy payments, charging sessions and corrections change other stores before their ack: their requests
# claim the nonce first, as batches do.
NONCE_ON_ACK_TYPES = (*VEHICLE_TYPES, "heartbeat", "occupancy")


@dataclass
class _Riding:
    """A one-event request's nonce (``NONCE_ON_ACK_TYPES``), kept on its event's ack (issue 10: the ack is
    the request's replay guard, no nonce item); ``stored`` once the ack was stored with it, else the request
    claims the nonce on its own."""

    nonce: NonceClaim
    stored: bool = False
    claimed: bool = False


class EventIngest:
    def __init__(
        self,
        auth: DeviceAuthenticator,
        lots: LotStore,
        acks: AckStore,
        sessions: SessionService,
        status: LotStatusStore,
        clock: Clock,
        legacy_payments: Callable[[LegacyPaymentEvent, Lot], PaymentReport] | None = None,
        read_ahead: ReadAhead | None = None,
        seen_from_stream: bool = False,
    ) -> None:
        self._legacy_payments, self._read_ahead = legacy_payments, read_ahead
        self._seen_from_stream = seen_from_stream  # the archive writer records the last-seen of a stored ack
        self._auth, self._lots, self._acks = auth, lots, acks
        self._sessions, self._status, self._clock = sessions, status, clock
        # Issue 13: records a charging session (idempotent per lot and event_id); None: not taken here.
        self.charging: Callable[[ChargingSessionEvent, Lot, str], None] | None = None
        # Issue 11: correction and void messages (shared.sessions.corrections.CorrectionService); None: refused.
        self.corrections = None
        # (lot, device) -> the last-seen this process stored for it (``LAST_SEEN_EVERY``)
        self._seen_stored: dict[tuple[str, str], datetime] = {}

    def handle(self, headers: Mapping[str, str], body: bytes, adapter: str | None = None) -> IngestResult:
        if len(body) > MAX_BODY_BYTES:
            raise PayloadTooLarge(f"body exceeds {MAX_BODY_BYTES} bytes", limit=MAX_BODY_BYTES)
        if self._read_ahead is None:
            return self._handle(headers, body, adapter)
        self._read_ahead.read_ahead(_lookahead(headers, body, adapter))
        try:
            return self._handle(headers, body, adapter)
        finally:
            self._read_ahead.forget()

    def _handle(self, headers: Mapping[str, str], body: bytes, adapter: str | None) -> IngestResult:
        device, nonce = self._auth.verify(headers, body)
        payload = _json(body)
        if adapter is not None:
            if device.lot_id is None:
                raise InvalidInput("lot-system adapters push for one lot: use a lot-bound device", code="adapter_needs_lot")
            if device.kind is not DeviceKind.LOT_SYSTEM:
                raise Forbidden(f"a {device.kind.value} posts protocol v1 to /v1/events; adapters are for lot systems",
                                code="adapter_needs_lot_system")
            raws, single = lot_systems.get(adapter).to_events(payload, lot_id=device.lot_id), False
            if not 1 <= len(raws) <= MAX_BATCH:
                raise InvalidInput(f"a push maps to 1 to {MAX_BATCH} events", code="batch_size", limit=MAX_BATCH)
        else:
            raws, single = _envelope(payload)
        on_ack = len(raws) == 1 and isinstance(raws[0], dict) and raws[0].get("type") in NONCE_ON_ACK_TYPES
        if not on_ack:
            self._auth.claim(nonce)
        lots = self._authorise(device, raws)
        riding = _Riding(nonce) if on_ack else None  # one write: the effects, the ack with the nonce
        acks = [self._one(device, raw, lots, riding) for raw in raws]
        if riding is not None and not riding.stored:
            self._claim_once(riding)
        seen = self._seen(device, lots)
        if seen is not None:
            stored_an_ack = any(a.status is AckStatus.ACCEPTED for a in acks)  # accepted: stored by this request
            if not (self._seen_from_stream and stored_an_ack):
                self._status.touch_device(seen.lot_id, seen.device_id, seen.at)
            self._stored_seen(seen)  # stored (just now, or by the stream's next batch), or a newer one was
        return IngestResult(acks=acks, single=single)

    def _seen(self, device: Device, lots: dict[str, Lot]) -> DeviceSeen | None:
        """The last-seen to write for this request: None when this process stored one for the device
        recently enough (a busy device's events, on a warm container, mostly write none)."""
        if not device.lot_id:
            return None
        now, lot = self._clock.now(), lots.get(device.lot_id)
        stored = self._seen_stored.get((device.lot_id, device.device_id))
        if lot is not None and stored is not None and timedelta(0) <= now - stored < last_seen_every(lot):
            return None
        return DeviceSeen(device.lot_id, device.device_id, now)

    def _stored_seen(self, seen: DeviceSeen) -> None:
        if len(self._seen_stored) > 100_000:  # a bound, far above one container's devices
            self._seen_stored.clear()
        self._seen_stored[(seen.lot_id, seen.device_id)] = seen.at

    def _claim_once(self, riding: _Riding, stored: AckRecord | None = None) -> None:
        """Before a request whose one event was not stored by it is answered: a replay is refused (its
        nonce claimed before, or on the ack ``stored`` for the event: ``DeviceAuthenticator.claim_beside``)."""
        if not (riding.stored or riding.claimed):
            if stored is not None:
                self._auth.claim_beside(riding.nonce, stored)
            else:
                self._auth.claim(riding.nonce)
            riding.claimed = True

    def _authorise(self, device: Device, raws: list[dict]) -> dict[str, Lot]:
        """Refuse the whole request if any event names a lot the device may not write for."""
        lots: dict[str, Lot] = {}
        named = {r.get("lot_id") for r in raws if isinstance(r, dict) and isinstance(r.get("lot_id"), str)}
        for lot_id in {lot_id for lot_id in named if _LOT_ID.fullmatch(lot_id)}:
            lot = self._lots.get(lot_id)
            if lot is None and device.lot_id is None:
                continue  # a gateway naming an unregistered lot: that event is rejected as unknown_lot
            if lot is None or not device.may_write_for(lot):  # an unknown lot is never a bound device's own
                raise Forbidden(f"device {device.device_id} may not write for lot {lot_id}", code="lot_forbidden")
            lots[lot_id] = lot
        return lots

    def _one(self, device: Device, raw: object, lots: dict[str, Lot], riding: _Riding | None = None) -> Ack:
        if not isinstance(raw, dict):
            return _rejected(None, "invalid_event", "an event is a JSON object")
        event_id = raw.get("event_id") if isinstance(raw.get("event_id"), str) else None
        try:
            event = _EVENT.validate_python(raw)
        except ValidationError as exc:
            return _rejected(event_id, _reason(exc), _summary(exc))
        lot = lots.get(event.lot_id)
        if lot is None:
            return _rejected(event_id, "unknown_lot", f"lot {event.lot_id} is not registered")
        problem = self._check(event, lot)
        if problem:
            return _rejected(event_id, *problem)

        first = self._acks.get_record(lot.lot_id, event.event_id)
        if first is not None:
            if riding is not None:
                self._claim_once(riding, first)
            return self._duplicate(lot, event, first.ack)
        accepted_at = self._clock.now().astimezone(SHANGHAI)

        def ack_item(ack: Ack) -> AckRecord:
            return AckRecord(
                lot_id=lot.lot_id,
                district_code=lot.district_code,
                device_id=device.device_id,
                event=event.model_dump(mode="json"),
                ack=ack,
                nonce=riding.nonce.nonce if riding is not None else None,
                lot_device=device.lot_id == lot.lot_id,
            )

        if isinstance(event, OccupancyEvent):
            ack = self._occupancy(event, lot, accepted_at, ack_item)
        elif isinstance(event, HeartbeatEvent):
            ack = Ack(event_id=event.event_id, status=AckStatus.ACCEPTED, accepted_at=accepted_at)
            ack = ack if self._acks.save(ack_item(ack)) else None
        elif isinstance(event, LegacyPaymentEvent):
            try:
                ack = self._legacy_payment(event, lot, accepted_at, ack_item)
            except DomainError as error:
                return _rejected(event.event_id, error.code, error.message)
        elif isinstance(event, ChargingSessionEvent):  # issue 13
            if self.charging is None:
                return _rejected(event.event_id, "charging_not_supported", "charging sessions are not taken here")
            self.charging(event, lot, device.device_id)  # recorded first, then acknowledged, as legacy payments
            ack = Ack(event_id=event.event_id, status=AckStatus.ACCEPTED, accepted_at=accepted_at)
            ack = ack if self._acks.save(ack_item(ack)) else None
        elif isinstance(event, (CorrectionEvent, VoidEvent)):  # issue 11: never a silent rewrite
            if self.corrections is None:
                return _rejected(event.event_id, "corrections_not_supported", "corrections are not taken here")
            try:
                ack = self.corrections.apply(event, lot, accepted_at, ack_item)
            except DomainError as error:
                return _rejected(event.event_id, error.code, error.message)
        else:
            ack = self._sessions.apply(event, lot, accepted_at, ack_item)
        if riding is not None:
            riding.stored = ack is not None  # the nonce is on the ack; None: a concurrent copy stored it first
        if ack is None:  # a concurrent copy of this event stored its ack first
            first = self._acks.get_record(lot.lot_id, event.event_id)
            if riding is not None:
                self._claim_once(riding, first)  # the same request twice at once: the copy is a replay
            return self._duplicate(lot, event, first.ack)
        count(f"Events_{event.type}_accepted")
        if ack.gate:
            count(f"Gate_{ack.gate.decision}")
        logger.info("event accepted", extra={"event": masked(event.model_dump(mode="json")), "ack": ack.flags})
        return ack

    def _check(self, event, lot: Lot) -> tuple[str, str] | None:
        now = self._clock.now()
        if event.type not in events_allowed(lot):
            return "event_not_supported_by_lot", f"a {lot.kind.value} lot does not take {event.type} events"
        if isinstance(event, (BerthStartEvent, BerthEndEvent)) and event.berth not in lot.berths:
            return "unknown_berth", f"berth {event.berth} is not registered in lot {lot.lot_id}"
        if event.occurred_at > now + FUTURE_TOLERANCE:
            return "occurred_in_future", "occurred_at is later than server time"
        if event.occurred_at < now - OLDEST_ACCEPTED:
            return "occurred_too_long_ago", f"events older than {OLDEST_ACCEPTED.days} days are not accepted"
        if isinstance(event, OccupancyEvent) and lot.kind is LotKind.ENCLOSED and event.total > lot.capacity * 2:
            return "implausible_total", f"total {event.total} is far above the registered capacity {lot.capacity}"
        return None

    def _occupancy(self, event: OccupancyEvent, lot: Lot, accepted_at: datetime, ack_item) -> Ack | None:
        ack = Ack(event_id=event.event_id, status=AckStatus.ACCEPTED, accepted_at=accepted_at)
        stored = self._status.occupancy_with_ack(lot.lot_id, event.total, event.free, event.occurred_at, ack_item(ack))
        if stored is None:
            return None
        if stored is False:  # an older report than the one shown: archived, not shown
            ack = ack.model_copy(update={"flags": ["superseded"]})
            return ack if self._acks.save(ack_item(ack)) else None
        return ack

    def _legacy_payment(self, event: LegacyPaymentEvent, lot: Lot, accepted_at: datetime, ack_item) -> Ack | None:
        """Applied first (idempotent by the lot's transaction id), then acknowledged: a crash in between
        is healed by the device's resend."""
        if self._legacy_payments is None:
            raise InvalidInput("legacy payments are not taken here", code="legacy_payments_not_supported")
        report = self._legacy_payments(event, lot)
        ack = Ack(event_id=event.event_id, status=AckStatus.ACCEPTED, payment=report, accepted_at=accepted_at)
        return ack if self._acks.save(ack_item(ack)) else None

    def _duplicate(self, lot: Lot, event, first: Ack) -> Ack:
        count("Events_duplicate")
        if isinstance(event, (EntryEvent, ExitEvent, BerthStartEvent, BerthEndEvent)):
            self._sessions.resume_after_duplicate(lot, event, first)
        elif isinstance(event, (CorrectionEvent, VoidEvent)) and self.corrections is not None:
            self.corrections.resume(lot, first)  # the bill's step, if a crash cut it short
        return first.model_copy(update={"status": AckStatus.DUPLICATE})


def _json(body: bytes):
    return parse_json(body)


def _lookahead(headers: Mapping[str, str], body: bytes, adapter: str | None) -> Lookahead:
    """What the request's decisions will read, from the unverified body (a guess: a wrong one only costs
    the normal read; nothing is written or decided before the signature holds)."""
    from shared.protocol import signing

    h = {k.lower(): v for k, v in headers.items()}
    device_id = h.get(signing.HEADER_DEVICE.lower()) or "-"
    try:
        raws = [] if adapter is not None else _envelope(_json(body))[0]
    except DomainError:
        raws = []
    lot_ids, acks, subjects, counts, plates = [], [], [], [], []
    for raw in raws[:MAX_BATCH] if isinstance(raws, list) else ():
        try:
            event = _EVENT.validate_python(raw)
        except (ValidationError, TypeError, ValueError):
            continue
        lot_ids.append(event.lot_id)
        acks.append((event.lot_id, event.event_id))
        if isinstance(event, (EntryEvent, ExitEvent, BerthStartEvent, BerthEndEvent)):
            from shared.sessions.planner import subject_of

            subjects.append((event.lot_id, subject_of(event)))
            if isinstance(event, (EntryEvent, BerthStartEvent)):
                counts.append(event.lot_id)
            elif isinstance(event, ExitEvent):
                plates.append(event.plate)
    return Lookahead(device_id=device_id, lot_ids=tuple(lot_ids), acks=tuple(acks), subjects=tuple(subjects),
                     lot_counts=tuple(counts), plates=tuple(plates))


def _envelope(payload) -> tuple[list, bool]:
    if isinstance(payload, dict) and "events" in payload:
        events = payload["events"]
        if set(payload) != {"events"} or not isinstance(events, list):
            raise InvalidInput('a batch is {"events": [...]} and nothing else', code="invalid_batch")
        if not 1 <= len(events) <= MAX_BATCH:
            raise InvalidInput(f"a batch holds 1 to {MAX_BATCH} events", code="batch_size", limit=MAX_BATCH)
        return events, False
    if isinstance(payload, dict):
        return [payload], True
    raise InvalidInput("body must be an event object or a batch", code="invalid_batch")


def _reason(exc: ValidationError) -> str:
    for err in exc.errors():
        loc = [str(p) for p in err["loc"]]
        if err["type"] in ("union_tag_invalid", "union_tag_not_found"):
            return "unknown_event_type"
        if "plate" in loc:
            return "malformed_plate"
        if "occurred_at" in loc:
            return "bad_timestamp"
    return "invalid_event"


def _summary(exc: ValidationError) -> str:
    parts = []
    for err in exc.errors()[:5]:
        loc = ".".join(str(p) for p in err["loc"][1:] or err["loc"])
        parts.append(f"{loc}: {err['msg']}" if loc else err["msg"])
    return "; ".join(parts)


def _rejected(event_id: str | None, reason: str, message: str) -> Ack:
    count("Events_rejected")
    return Ack(event_id=event_id, status=AckStatus.REJECTED, reason=reason, message=message)
