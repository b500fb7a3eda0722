"""Decide what an entry or exit does to a lot's sessions. Pure: it reads a snapshot and returns a plan.

The service loads the snapshot, asks for a plan and writes the plan in one transaction with the event's
acknowledgement (``SessionStore.write``). Keeping the rules here lets them be tested (and property-tested,
``tests/sessions/test_planner_properties.py``, on the in-memory store) with no infrastructure, and makes
every state change a single conditional write.

Rules, in order:
- Entry: a waiting exit of the same plate (or berth) that happened after this entry is reconciled with
  it; otherwise an open session for the plate (berth) is closed as orphaned and a new one opened,
  unless the arriving entry is older than that open session (then the arriving one is the stale one).
- Exit: the open session of the exact plate (berth); else one fuzzy match among the lot's open
  sessions; else a session with an unknown start that waits for its entry and is then reviewed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import NamedTuple

from shared import plates
from shared.protocol.events import BerthEndEvent, BerthStartEvent, EntryEvent, ExitEvent
from shared.sessions.model import LOW_CONFIDENCE_BELOW, Flag, ParkingSession, SessionStatus, session_id_for

EntryLike = EntryEvent | BerthStartEvent
ExitLike = ExitEvent | BerthEndEvent


class Snapshot(NamedTuple):  # immutable, and built per event (a frozen dataclass costs several times as much)
    """What the planner may look at: loaded by the service, consistent enough for one decision."""

    open_for_subject: ParkingSession | None = None  # the open session of this exact plate (or berth)
    open_in_lot: tuple[ParkingSession, ...] = ()  # fuzzy-match candidates (gate exits only)
    unmatched_in_lot: tuple[ParkingSession, ...] = ()  # exits still waiting for their entry


class PointerWrite(NamedTuple):
    """The open-session pointer of ``subject``: set to ``session_id`` (None deletes) if it holds ``expected``."""

    subject: str
    session_id: str | None
    expected: str | None


# ``PointerWrite(...)`` as its ``__new__`` builds it, without that Python-level frame (one per event)
_tuple = tuple.__new__


@dataclass(slots=True)
class Plan:
    """What to write. The sequences are read, never changed: an empty one is the shared ``()`` (a new list
    per field and plan cost a fifth of building a plan, one per event)."""

    session_id: str
    creates: Sequence[ParkingSession] = ()
    updates: Sequence[ParkingSession] = ()  # each carries its new version (old + 1)
    pointers: Sequence[PointerWrite] = ()
    open_delta: int = 0
    unmatched_delta: int = 0  # exits waiting for their entry: lets entries skip the lookup when none wait
    match: str | None = None
    flags: Sequence[Flag] = ()
    closed: ParkingSession | None = None  # the session this exit closed (for the gate decision)
    start_review: bool = False


# Berth events by their ``type``: ``isinstance`` against a pydantic model goes through its metaclass's check,
# several times the cost of the rest of these helpers (replay asks for them once or twice per event).
_BERTH_TYPES = frozenset({"berth_start", "berth_end"})
_EXACT = plates.MatchKind.EXACT.value
# The members the common paths name, as module constants: on CPython 3.11 ``SessionStatus.OPEN`` costs
# several times a global's lookup (measured ~0.5 µs more here), and replay names a few per event.
_OPEN, _CLOSED, _AWAITING_ENTRY = SessionStatus.OPEN, SessionStatus.CLOSED, SessionStatus.AWAITING_ENTRY


def subject_of(event: EntryLike | ExitLike) -> str:
    """What makes an event's open session unique in its lot (as ``ParkingSession.subject``)."""
    return f"B#{event.berth}" if event.type in _BERTH_TYPES else f"P#{event.plate}"


def _berth(event: EntryLike | ExitLike) -> str | None:
    return event.berth if event.type in _BERTH_TYPES else None


def _read_flags(event: EntryLike | ExitLike) -> list[Flag]:
    flags = []
    if plates.is_partial(event.plate):
        flags.append(Flag.PLATE_PARTIAL)
    if event.confidence < LOW_CONFIDENCE_BELOW:
        flags.append(Flag.LOW_CONFIDENCE)
    return flags


def _bump(session: ParkingSession, **changes) -> ParkingSession:
    return session.evolved(**changes, version=session.version + 1)


def _match(read: str, sessions: list[ParkingSession]) -> tuple[ParkingSession, str] | None:
    """The session whose plate matches ``read`` (exact first, then a single fuzzy candidate)."""
    for s in sessions:  # what best_match finds first, without parsing every plate
        if s.plate == read:
            return s, _EXACT
    found = plates.best_match(plates.Plate(read), [plates.Plate(s.plate) for s in sessions])
    if found is None:
        return None
    plate, kind = found
    return next(s for s in sessions if s.plate == plate.text), kind.value


def _new_session(event: EntryLike | ExitLike, district_code: str, **fields) -> ParkingSession:
    # the event was validated, and the fields are the planner's own: built without validating them again
    fields["session_id"] = session_id_for(event.lot_id, event.event_id)
    fields["lot_id"] = event.lot_id
    fields["district_code"] = district_code
    fields["berth"] = _berth(event)
    fields["plate"] = event.plate
    fields["plate_colour"] = event.plate_colour
    fields["vehicle_class"] = event.vehicle_class
    return ParkingSession.trusted_from(fields)


def plan_entry(event: EntryLike, district_code: str, snap: Snapshot) -> Plan:
    berth = _berth(event)
    waiting = snap.unmatched_in_lot and sorted(
        (
            u
            for u in snap.unmatched_in_lot
            if u.berth == berth and u.exited_at is not None and u.exited_at >= event.occurred_at
        ),
        key=lambda u: u.exited_at,
    )
    found = _match(event.plate, waiting) if waiting else None
    if found:
        session, kind = found
        flags = [Flag.LATE_ENTRY_RECONCILED] + ([Flag.FUZZY_MATCH] if kind == "fuzzy" else [])
        reconciled = _bump(
            session,
            status=_CLOSED,
            entered_at=event.occurred_at,
            entry_event_id=event.event_id,
            entry_evidence_ref=event.evidence_ref,
            exit_plate=session.plate if session.plate != event.plate else None,
            plate=event.plate,
            match=kind,
            flags=_merge(session.flags, flags + _read_flags(event)),
        )
        return Plan(
            reconciled.session_id, updates=[reconciled], unmatched_delta=-1, match=kind, flags=flags, closed=reconciled
        )

    read_flags = _read_flags(event)
    new_open = _new_session(
        event,
        district_code,
        status=_OPEN,
        entered_at=event.occurred_at,
        entry_event_id=event.event_id,
        entry_evidence_ref=event.evidence_ref,
        flags=read_flags,
    )
    current = snap.open_for_subject
    if current is None:
        return Plan(
            new_open.session_id,
            creates=[new_open],
            pointers=[_tuple(PointerWrite, (new_open.subject, new_open.session_id, None))],
            open_delta=1,
            flags=read_flags,
        )

    if berth is not None and _match(event.plate, [current]) is not None:
        # The berth already has this car's session open: a repeated start, not a new stay.
        return Plan(current.session_id, flags=[Flag.ALREADY_OPEN])

    if current.entered_at is not None and current.entered_at > event.occurred_at:
        stale = new_open.evolved(status=SessionStatus.ORPHANED, flags=read_flags + [Flag.STALE_ENTRY])
        return Plan(stale.session_id, creates=[stale], flags=[Flag.STALE_ENTRY])

    orphaned = _bump(
        current,
        status=SessionStatus.ORPHANED,
        flags=_merge(current.flags, [Flag.ORPHANED_BY_NEW_ENTRY]),
    )
    return Plan(
        new_open.session_id,
        creates=[new_open],
        updates=[orphaned],
        pointers=[_tuple(PointerWrite, (new_open.subject, new_open.session_id, current.session_id))],
        flags=read_flags + [Flag.ORPHANED_BY_NEW_ENTRY],
    )


def plan_exit(event: ExitLike, district_code: str, snap: Snapshot) -> Plan:
    at, berth = event.occurred_at, _berth(event)
    current = snap.open_for_subject
    if (
        current is not None
        and not snap.open_in_lot
        and current.plate == event.plate
        and (current.entered_at is None or current.entered_at <= at)
        and (berth is None or current.berth == berth)
    ):  # the only candidate, and an exact match: what the search below finds, without it (the common exit)
        found: tuple[ParkingSession, str] | None = (current, _EXACT)
    else:
        candidates = [current, *snap.open_in_lot] if current is not None else list(snap.open_in_lot)
        started_before = [s for s in candidates if s.entered_at is None or s.entered_at <= at]
        # A berth exit can only close the session on that berth; a gate exit any open session in the lot.
        if berth is not None:
            started_before = [s for s in started_before if s.berth == berth]
        if len(started_before) > 1:
            started_before = _unique(started_before)
        found = _match(event.plate, started_before) if started_before else None
    read_flags = _read_flags(event)

    if found:
        session, kind = found
        flags = ([Flag.FUZZY_MATCH] if kind == "fuzzy" else []) + read_flags
        closed = _bump(
            session,
            status=_CLOSED,
            exited_at=event.occurred_at,
            exit_event_id=event.event_id,
            exit_evidence_ref=event.evidence_ref,
            exit_plate=event.plate if event.plate != session.plate else None,
            match=kind,
            flags=_merge(session.flags, flags),
        )
        return Plan(
            closed.session_id,
            updates=[closed],
            pointers=[_tuple(PointerWrite, (session.subject, None, session.session_id))],
            open_delta=-1,
            match=kind,
            flags=flags,
            closed=closed,
        )

    waiting = _new_session(
        event,
        district_code,
        status=_AWAITING_ENTRY,
        exited_at=event.occurred_at,
        exit_event_id=event.event_id,
        exit_evidence_ref=event.evidence_ref,
        flags=[Flag.EXIT_WITHOUT_ENTRY] + read_flags,
    )
    return Plan(
        waiting.session_id,
        creates=[waiting],
        unmatched_delta=1,
        flags=[Flag.EXIT_WITHOUT_ENTRY] + read_flags,
        closed=waiting,
        start_review=True,
    )


def review_unmatched(session: ParkingSession) -> ParkingSession | None:
    """At the end of the reconciliation window: an exit still without its entry goes to staff."""
    if session.status is not SessionStatus.AWAITING_ENTRY:
        return None
    return _bump(session, status=SessionStatus.NEEDS_REVIEW)


def _merge(existing: list[Flag], extra: list[Flag]) -> list[Flag]:
    return existing + [f for f in extra if f not in existing]


def _unique(sessions: list[ParkingSession]) -> list[ParkingSession]:
    seen: dict[str, ParkingSession] = {}
    for s in sessions:
        seen.setdefault(s.session_id, s)
    return list(seen.values())
