"""Deterministic replay: the archive's device events rebuilt into sessions and charges with the live
domain code (the session planner, the tariff engine through ``TariffService.price``, ``Posting.charge``),
then compared with the ledger. Pure: records in, figures out; the CLI (``tongting replay``) does the I/O.

What it recomputes today is every session's parking charge: the live path charges a closed session with
a known entry exactly ``price(entered_at, exited_at)`` in total (re-pricings post only the difference and
prices never fall), with the tariff version in force at entry. Payments, refunds, disputes, coupons and
arrears are not yet archived, so their ledger postings are reported as totals ("not replayed"), and a
prepaid car that left within the grace period (priced only to its payment) shows as a difference.

Order: the planner's decisions depend on each lot's sessions only, so records are applied per lot in the
order they were accepted (``accepted_at``, then the archive's own order).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime

from pydantic import TypeAdapter, ValidationError

from shared.clock import local_date
from shared.ledger.model import Posting, PostingKind
from shared.protocol.events import BerthEndEvent, BerthStartEvent, DeviceEvent, EntryEvent, ExitEvent
from shared.registry.model import Lot
from shared.sessions import planner
from shared.sessions.model import ParkingSession, SessionStatus
from shared.tariffs.quote import Quote

_EVENT = TypeAdapter(DeviceEvent)
Pricer = Callable[[Lot, datetime, datetime, ParkingSession], Quote | None]


@dataclass(frozen=True)
class Charge:
    session_id: str
    operator_id: str
    lot_id: str
    day: str  # local date of the exit
    amount_fen: int
    tariff_id: str | None
    events: tuple[str, ...]  # the entry and exit event ids behind it


class LotState:
    """One lot's sessions as the planner sees them: open ones by subject, exits waiting for an entry."""

    def __init__(self) -> None:
        self.open: dict[str, ParkingSession] = {}  # subject -> session
        self.unmatched: dict[str, ParkingSession] = {}  # session_id -> session
        self.sessions: dict[str, ParkingSession] = {}  # open or awaiting entry, by id

    def snapshot(self, event) -> planner.Snapshot:
        current = self.open.get(planner.subject_of(event))
        if isinstance(event, (EntryEvent, BerthStartEvent)):
            return planner.Snapshot(open_for_subject=current, unmatched_in_lot=tuple(self.unmatched.values()))
        others = () if current is not None or isinstance(event, BerthEndEvent) else tuple(self.open.values())
        return planner.Snapshot(open_for_subject=current, open_in_lot=others)

    def apply(self, plan: planner.Plan) -> None:
        for s in [*plan.creates, *plan.updates]:
            if s.status is SessionStatus.AWAITING_ENTRY:
                self.unmatched[s.session_id] = s
            else:
                self.unmatched.pop(s.session_id, None)
            if s.status in (SessionStatus.OPEN, SessionStatus.AWAITING_ENTRY):
                self.sessions[s.session_id] = s
            else:
                self.sessions.pop(s.session_id, None)  # closed or orphaned: nothing will change it again
        for p in plan.pointers:
            if p.session_id is None:
                self.open.pop(p.subject, None)
            else:
                self.open[p.subject] = self.sessions[p.session_id]
        for s in [*plan.creates, *plan.updates]:  # a pointer refers to the newest copy of its session
            pointed = self.open.get(s.subject)
            if pointed is not None and pointed.session_id == s.session_id:
                self.open[s.subject] = s


@dataclass
class Replay:
    lots: Mapping[str, Lot]
    price: Pricer
    charges: dict[str, Charge] = field(default_factory=dict)
    events: int = 0
    skipped: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    _state: dict[str, LotState] = field(default_factory=dict)

    def apply(self, record: dict) -> None:
        """One archived record (a decoded JSON line)."""
        self.events += 1
        try:
            event = _EVENT.validate_python(record["event"])
        except (ValidationError, KeyError, TypeError):
            self.skipped["undecodable"] += 1
            return
        if not isinstance(event, (EntryEvent, ExitEvent, BerthStartEvent, BerthEndEvent)):
            self.skipped[event.type] += 1
            return
        lot = self.lots.get(event.lot_id)
        if lot is None:
            self.skipped["unknown_lot"] += 1
            return
        state = self._state.setdefault(lot.lot_id, LotState())
        snap = state.snapshot(event)
        if isinstance(event, (EntryEvent, BerthStartEvent)):
            plan = planner.plan_entry(event, lot.district_code, snap)
        else:
            plan = planner.plan_exit(event, lot.district_code, snap)
        state.apply(plan)
        if plan.closed is not None and plan.closed.status is SessionStatus.CLOSED:
            self._charge(lot, plan.closed)

    def _charge(self, lot: Lot, s: ParkingSession) -> None:
        if s.entered_at is None or s.exited_at is None:
            return
        quote = self.price(lot, s.entered_at, s.exited_at, s)
        if quote is None:
            return
        events = tuple(e for e in (s.entry_event_id, s.exit_event_id) if e)
        self.charges[s.session_id] = Charge(
            s.session_id,
            lot.operator_id,
            lot.lot_id,
            local_date(s.exited_at),
            quote.amount_fen,
            quote.tariff_id,
            events,
        )

    def run(self, records: Iterable[dict], progress: Callable[[int], None] | None = None) -> Replay:
        for n, r in enumerate(records, 1):
            self.apply(r)
            if progress and n % 1000 == 0:
                progress(1000)
        return self


def in_accepted_order(records: Iterable[dict]) -> list[dict]:
    """Records sorted as they were applied: accepted time, then archive order (stable sort)."""
    return sorted(records, key=lambda r: r.get("accepted_at", ""))


@dataclass(frozen=True)
class Difference:
    session_id: str
    operator_id: str
    day: str
    replayed_fen: int
    ledger_fen: int
    events: tuple[str, ...]
    postings: tuple[str, ...]


@dataclass
class Comparison:
    totals: dict[tuple[str, str], dict[str, int]]  # (operator, day) -> replayed / ledger fen
    differences: list[Difference]
    not_replayed: dict[str, int]  # ledger totals of posting kinds replay does not rebuild yet

    @property
    def difference_fen(self) -> int:
        return sum(d.replayed_fen - d.ledger_fen for d in self.differences)


def charges_in_ledger(
    postings: Iterable[Posting],
) -> tuple[dict[str, tuple[int, str, tuple[str, ...]]], dict[str, int]]:
    """Charged fen per session (with the operator and posting ids) and totals of every other kind."""
    per_session: dict[str, list] = {}
    others: dict[str, int] = defaultdict(int)
    for p in postings:
        if p.kind is PostingKind.CHARGE and "session_id" in p.refs:
            operator = next(e.account for e in p.entries if e.amount_fen < 0).split(":", 1)[1]
            entry = per_session.setdefault(p.refs["session_id"], [0, operator, []])
            entry[0] += p.amount_fen
            entry[2].append(p.posting_id)
        else:
            others[p.kind.value] += p.amount_fen
    return {k: (v[0], v[1], tuple(sorted(v[2]))) for k, v in per_session.items()}, dict(others)


def compare(replay: Replay, postings: Iterable[Posting]) -> Comparison:
    ledger, others = charges_in_ledger(postings)
    totals: dict[tuple[str, str], dict[str, int]] = defaultdict(lambda: {"replayed_fen": 0, "ledger_fen": 0})
    diffs: list[Difference] = []
    for sid, c in replay.charges.items():
        have, _, pids = ledger.pop(sid, (0, c.operator_id, ()))
        totals[(c.operator_id, c.day)]["replayed_fen"] += c.amount_fen
        totals[(c.operator_id, c.day)]["ledger_fen"] += have
        if have != c.amount_fen:
            diffs.append(Difference(sid, c.operator_id, c.day, c.amount_fen, have, c.events, pids))
    for sid, (have, operator, pids) in ledger.items():  # charged, but no archived events lead to it
        totals[(operator, "unknown")]["ledger_fen"] += have
        diffs.append(Difference(sid, operator, "unknown", 0, have, (), pids))
    return Comparison(dict(totals), sorted(diffs, key=lambda d: (d.day, d.operator_id, d.session_id)), others)
