"""Deterministic replay: the archive's device events rebuilt into sessions and charges with the live
domain code (the session planner, the tariff engine through ``TariffService.price``, ``Posting.charge``),
then compared with the ledger. Pure: records in, figures out; the CLI (``tongting replay``) does the I/O.

What it recomputes from device events is every session's parking charge: the live path charges a closed
session with a known entry exactly ``price(entered_at, exited_at)`` in total (re-pricings post only the
difference and prices never fall), with the lot as it was when the closing event was accepted (``lot_at``:
its tariff, operator and district then) and the tariff version in force at entry. A prepaid car that left
within the grace period (priced only to its payment) shows as a difference.

The money records archived beside the events (``shared.archive.books``: payments, refunds, adjustments,
write-offs) are rebuilt into their postings with the live path's ``Posting`` constructors and compared
with the ledger's postings of those kinds, posting by posting (a fingerprint per kind first, like the
charges'). Other kinds (discounts, settlements, fees, reversals) are reported as ledger totals.

Order: the planner's decisions depend on each lot's sessions only, so records are applied per lot in the
order they were accepted (``accepted_at``, then the archive's own order).

Memory stays flat whatever the archive's size: the replay keeps each lot's open (and awaiting-entry)
sessions, totals per operator and day, and per operator a *fingerprint* of its sessions' charges,
``sum(h(session_id) * fen) mod P`` with ``h`` a 127-bit hash. The fingerprint is linear in the fen, so the
ledger's postings of a session (a charge and its re-pricings) fold into it one by one, without grouping
them by session first; two fingerprints agree only if every session's total agrees (a false match has
probability about 1/P). Per-session charges are kept only for the operators asked for (``keep``): the
CLI replays a second time, keeping only the operators whose fingerprints differ, to name the sessions.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from hashlib import blake2b

import msgspec
from pydantic import TypeAdapter, ValidationError

from shared.archive import books as money_records
from shared.audit.archived import ArchivedRecord
from shared.clock import local_date
from shared.ledger.model import Posting, PostingKind
from shared.plates import PlateColour
from shared.protocol.events import (
    BerthEndEvent, BerthStartEvent, DeviceEvent, EntryEvent, ExitEvent, VehicleClass,
)  # fmt: skip
from shared.registry.model import Lot
from shared.sessions import planner
from shared.sessions.model import ParkingSession, SessionStatus, model_setters
from shared.tariffs.quote import Quote

_EVENT = TypeAdapter(DeviceEvent)
_SESSION_EVENTS = {"entry": EntryEvent, "exit": ExitEvent, "berth_start": BerthStartEvent, "berth_end": BerthEndEvent}
Pricer = Callable[[Lot, datetime, datetime, ParkingSession], Quote | None]
P = (1 << 127) - 1  # a Mersenne prime: the fingerprints' modulus
ALL = None  # keep every operator's per-session charges


def session_hash(session_id: str) -> int:
    h = _BLAKE2B.copy()  # the same digest as blake2b(..., digest_size=16); a copy costs less than a new hasher
    h.update(session_id.encode())
    return int.from_bytes(h.digest(), "big") % P


_BLAKE2B = blake2b(digest_size=16)


def book_hash(p: Posting) -> int:
    """A money posting's fingerprint term: its id, kind and entries (accounts and fen)."""
    entries = ",".join(f"{e.account}={e.amount_fen}" for e in sorted(p.entries, key=lambda e: e.account))
    return session_hash(f"{p.posting_id}|{p.kind.value}|{entries}")


def _defaults(cls) -> dict:
    fields = cls.model_fields.items()
    return {name: f.get_default(call_default_factory=True) for name, f in fields if not f.is_required()}


_DEFAULTS = {kind: _defaults(cls) for kind, cls in _SESSION_EVENTS.items()}
_COLOURS = {c.value: c for c in PlateColour}
_CLASSES = {c.value: c for c in VehicleClass} | {c: c for c in VehicleClass}  # the default is a member already
_SIZE = {kind: len(cls.model_fields) for kind, cls in _SESSION_EVENTS.items()}
_new = object.__new__
_SET_DICT, _SET_FIELDS, _SET_EXTRA, _SET_PRIVATE = model_setters(EntryEvent)
_ENTRIES = frozenset({"entry", "berth_start"})
_SESSION_TYPES = frozenset(_SESSION_EVENTS)
_tuple, _Snapshot = tuple.__new__, planner.Snapshot
# as module constants: an enum member's lookup through its class costs several times a global's on CPython 3.11
_OPEN, _CLOSED, _AWAITING_ENTRY = SessionStatus.OPEN, SessionStatus.CLOSED, SessionStatus.AWAITING_ENTRY


def decode_trusted(event: dict):
    """A session event from an archive that passed verification, without re-validating it: every archived
    event was validated when it was accepted, and the Merkle log proves it unchanged since. The datetime is
    parsed and the enums looked up; fields are otherwise taken as archived. None for events replay does not apply.

    What ``model_construct`` does, with the defaults computed once per class (its per-call loop over the
    fields was a fifth of the replay's time); ``tests/audit/test_replay_fast.py`` checks that the result
    equals the validated event."""
    kind = event.get("type")
    cls = _SESSION_EVENTS.get(kind)
    if cls is None:
        return None
    # every field, as archived (``model_dump``; a validated event has no others): a copy; else the defaults too
    fields = event.copy() if len(event) == _SIZE[kind] else {**_DEFAULTS[kind], **event}
    fields["occurred_at"] = datetime.fromisoformat(fields["occurred_at"])
    fields["plate_colour"] = _COLOURS[fields["plate_colour"]]
    fields["vehicle_class"] = _CLASSES[fields["vehicle_class"]]
    out = _new(cls)
    _SET_DICT(out, fields)
    _SET_FIELDS(out, set(event))
    _SET_EXTRA(out, None)
    _SET_PRIVATE(out, None)
    return out


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
        kind = event.type  # not isinstance: a pydantic model's class check costs more than the rest here
        # built as NamedTuple's __new__ builds it (tuple.__new__), without its Python-level frame: one per event
        if kind in _ENTRIES:
            return _tuple(_Snapshot, (current, (), tuple(self.unmatched.values()) if self.unmatched else ()))
        others = () if current is not None or kind == "berth_end" else tuple(self.open.values())
        return _tuple(_Snapshot, (current, others, ()))

    def apply(self, plan: planner.Plan) -> None:
        for s in plan.creates:
            self._keep(s)
        for s in plan.updates:
            self._keep(s)
        for p in plan.pointers:
            if p.session_id is None:
                self.open.pop(p.subject, None)
            else:
                self.open[p.subject] = self.sessions[p.session_id]
        for s in plan.updates:  # a pointer refers to the newest copy of its session (a created one is newest)
            pointed = self.open.get(s.subject)
            if pointed is not None and pointed.session_id == s.session_id:
                self.open[s.subject] = s

    def _keep(self, s: ParkingSession) -> None:
        sid, status = s.session_id, s.status
        if status is _AWAITING_ENTRY:
            self.unmatched[sid] = self.sessions[sid] = s
            return
        if self.unmatched:
            self.unmatched.pop(sid, None)
        if status is _OPEN:
            self.sessions[sid] = s
        else:
            self.sessions.pop(sid, None)  # closed or orphaned: nothing will change it again


@dataclass
class Replay:
    """``trusted``: the archive passed verification, so events are not validated again (``decode_trusted``).
    ``keep``: the operators whose per-session charges are kept in ``charges`` (``ALL`` keeps all: tests and
    small archives; an empty set keeps none, and memory stays flat)."""

    lots: Mapping[str, Lot]
    price: Pricer
    trusted: bool = False
    keep: Collection[str] | None = ALL
    keep_books: Collection[str] | None = ALL  # the money kinds whose rebuilt postings are kept in ``books``
    charges: dict[str, Charge] = field(default_factory=dict)
    events: int = 0
    sessions_charged: int = 0
    replayed_fen: int = 0
    totals: dict[tuple[str, str], int] = field(default_factory=lambda: defaultdict(int))  # (operator, day) -> fen
    fingerprints: dict[str, int] = field(default_factory=lambda: defaultdict(int))  # operator -> sum h*fen mod P
    skipped: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    books_replayed: int = 0
    books: dict[str, Posting] = field(default_factory=dict)  # posting id -> rebuilt posting (kept kinds)
    book_totals: dict[tuple[str, str], int] = field(default_factory=lambda: defaultdict(int))  # (kind, day) -> fen
    book_prints: dict[str, int] = field(default_factory=lambda: defaultdict(int))  # kind -> sum book_hash mod P
    # the lot version in force when a record was accepted (lot id, ``accepted_at``); None: ``lots`` always
    lot_at: Callable[[str, str | None], Lot | None] | None = None
    _state: dict[str, LotState] = field(default_factory=dict)

    def _validated(self, record: dict):
        """The record's event validated (an archive that was not verified), or None if replay skips it."""
        try:
            event = _EVENT.validate_python(record["event"])
        except (ValidationError, KeyError, TypeError):
            self.skipped["undecodable"] += 1
            return None
        if not isinstance(event, (EntryEvent, ExitEvent, BerthStartEvent, BerthEndEvent)):
            self.skipped[event.type] += 1
            return None
        return event

    def apply(self, record: ArchivedRecord | dict) -> None:
        """One archived record: a line decoded by ``shared.audit.archived.decode_line`` (a verified archive's
        event as a typed struct) or by a JSON decoder (a dict)."""
        self.events += 1
        if type(record) is ArchivedRecord:  # typed already: nothing to decode
            if not self.trusted:  # not verified: validated as any other record
                self.events -= 1
                return self.apply(msgspec.to_builtins(record))
            event = record.event
            if event is None or event.type not in _SESSION_TYPES:
                self.skipped["undecodable" if event is None else event.type] += 1
                return
            accepted_at = record.accepted_at
        else:
            if "record" in record:
                self._book(record)
                return
            if self.trusted:
                try:
                    event = decode_trusted(record["event"])
                except (KeyError, TypeError, ValueError):
                    self.skipped["undecodable"] += 1
                    return
                if event is None:
                    self.skipped[str(record["event"].get("type"))] += 1
                    return
            else:
                event = self._validated(record)
                if event is None:
                    return
            accepted_at = record.get("accepted_at")
        if self.lot_at is None:
            lot = self.lots.get(event.lot_id)
        else:  # the version the live path read: the one in force when the event was accepted
            lot = self.lot_at(event.lot_id, accepted_at)
        if lot is None:
            self.skipped["unknown_lot"] += 1
            return
        state = self._state.get(lot.lot_id)
        if state is None:
            state = self._state[lot.lot_id] = LotState()
        snap = state.snapshot(event)
        if event.type in _ENTRIES:
            plan = planner.plan_entry(event, lot.district_code, snap)
        else:
            plan = planner.plan_exit(event, lot.district_code, snap)
        state.apply(plan)
        closed = plan.closed
        if closed is not None and closed.status is _CLOSED:
            self._charge(lot, closed)

    def _book(self, record: dict) -> None:
        """A money record: its posting rebuilt with the live path's constructor (which checks its balance)."""
        try:
            posting = money_records.posting_of(record)
        except (KeyError, TypeError, ValueError, ValidationError):
            self.skipped["undecodable"] += 1
            return
        kind = posting.kind.value
        self.books_replayed += 1
        self.book_totals[(kind, local_date(posting.occurred_at))] += posting.amount_fen
        self.book_prints[kind] = (self.book_prints[kind] + book_hash(posting)) % P
        if self.keep_books is ALL or kind in self.keep_books:
            self.books[posting.posting_id] = posting

    def _charge(self, lot: Lot, s: ParkingSession) -> None:
        entered_at, exited_at = s.entered_at, s.exited_at
        if entered_at is None or exited_at is None:
            return
        quote = self.price(lot, entered_at, exited_at, s)
        if quote is None:
            return
        fen, day, operator = quote.amount_fen, local_date(exited_at), lot.operator_id
        self.sessions_charged += 1
        self.replayed_fen += fen
        self.totals[(operator, day)] += fen
        if fen:
            prints = self.fingerprints
            prints[operator] = (prints[operator] + session_hash(s.session_id) * fen) % P
        keep = self.keep
        if keep is ALL or operator in keep:
            events = tuple(e for e in (s.entry_event_id, s.exit_event_id) if e)
            self.charges[s.session_id] = Charge(s.session_id, operator, lot.lot_id, day, fen, quote.tariff_id, events)

    def detached(self) -> Replay:
        """The figures without the registry, the pricer and the per-lot state: what a worker of ``tongting replay
        --jobs`` sends back (the pricer is a closure, which does not pickle, and the state is done with)."""
        return replace(self, lots={}, price=None, lot_at=None, _state={})  # type: ignore[arg-type]

    def absorb(self, other: Replay) -> None:
        """Add the figures of a replay of other lots (and other money records). The planner reads one lot's
        sessions only and a money record stands alone, so the replays of the parts of a partition of the
        lots, absorbed into one, are the replay of them all, field for field
        (``tests/audit/test_replay_parallel.py``, which also fails if a new field is not absorbed here)."""
        self.events += other.events
        self.sessions_charged += other.sessions_charged
        self.replayed_fen += other.replayed_fen
        self.books_replayed += other.books_replayed
        self.charges.update(other.charges)
        self.books.update(other.books)
        for mine, theirs in ((self.totals, other.totals), (self.skipped, other.skipped),
                             (self.book_totals, other.book_totals)):  # fmt: skip
            for key, value in theirs.items():
                mine[key] += value
        for mine, theirs in ((self.fingerprints, other.fingerprints), (self.book_prints, other.book_prints)):
            for key, value in theirs.items():
                mine[key] = (mine[key] + value) % P

    def run(self, records: Iterable[ArchivedRecord | dict], progress: Callable[[int], None] | None = None) -> Replay:
        apply = self.apply
        if progress is None:
            for r in records:
                apply(r)
            return self
        for n, r in enumerate(records, 1):
            apply(r)
            if n % 1000 == 0:
                progress(1000)
        return self


def _accepted_at(record: ArchivedRecord | dict) -> str:
    if type(record) is ArchivedRecord:
        return record.accepted_at or ""
    return record.get("accepted_at", "")


def in_accepted_order(records: Iterable[ArchivedRecord | dict]) -> list[ArchivedRecord | dict]:
    """Records sorted as they were applied: accepted time, then archive order (stable sort)."""
    return sorted(records, key=_accepted_at)


@dataclass(frozen=True)
class Difference:
    session_id: str
    operator_id: str
    day: str
    replayed_fen: int
    ledger_fen: int
    events: tuple[str, ...]
    postings: tuple[str, ...]
    kind: str = "charge"  # or the money record's kind: payment, refund, adjustment, write_off
    bill_id: str = ""


@dataclass
class Comparison:
    totals: dict[tuple[str, str], dict[str, int]]  # (operator, day) -> replayed / ledger fen
    differences: list[Difference]
    not_replayed: dict[str, int]  # ledger totals of posting kinds replay does not rebuild yet
    unresolved: set[str] = field(default_factory=set)  # operators that differ, sessions not kept: replay again
    book_totals: dict[tuple[str, str], dict[str, int]] = field(default_factory=dict)  # (kind, day) -> fen
    unresolved_books: set[str] = field(default_factory=set)  # money kinds that differ, postings not kept

    @property
    def difference_fen(self) -> int:
        return sum(d.replayed_fen - d.ledger_fen for d in self.differences)


def _operator_of(p: Posting) -> str:
    return next(e.account for e in p.entries if e.amount_fen < 0).split(":", 1)[1]


def compare(replay: Replay, postings: Iterable[Posting]) -> Comparison:
    """The ledger's charges against the replay's, streaming the postings once.

    Per operator, the fingerprints decide: equal, every session of it matches, so its ledger totals per
    day are the replayed ones. Different, and its sessions were kept: each session is compared and the
    differences named (a ledger charge with no replayed session is reported on day "unknown"). Different
    and not kept: the operator is ``unresolved`` (the CLI replays again keeping it).

    The money postings (payments, refunds, adjustments, write-offs) likewise, per kind: equal fingerprints,
    every posting matches; different and kept, each posting whose id, kind, accounts or fen differ (or that
    only one side has) is a difference naming its session and bill; different and not kept, the kind is in
    ``unresolved_books``."""
    kept = replay.keep
    ledger_print: dict[str, int] = defaultdict(int)
    ledger_fen: dict[str, int] = defaultdict(int)
    per_session: dict[str, list] = {}  # kept operators only: session -> [fen, operator, posting ids]
    others: dict[str, int] = defaultdict(int)
    ledger_book_print: dict[str, int] = defaultdict(int)
    ledger_books: dict[str, Posting] = {}  # kept kinds only
    book_totals: dict[tuple[str, str], dict[str, int]] = {
        key: {"replayed_fen": fen, "ledger_fen": 0} for key, fen in replay.book_totals.items()
    }
    for p in postings:
        if p.kind is PostingKind.CHARGE and "session_id" in p.refs:
            operator, sid, fen = _operator_of(p), p.refs["session_id"], p.amount_fen
            ledger_print[operator] = (ledger_print[operator] + session_hash(sid) * fen) % P
            ledger_fen[operator] += fen
            if kept is ALL or operator in kept:
                entry = per_session.setdefault(sid, [0, operator, []])
                entry[0] += fen
                entry[2].append(p.posting_id)
        elif p.kind.value in money_records.KINDS:
            kind = p.kind.value
            ledger_book_print[kind] = (ledger_book_print[kind] + book_hash(p)) % P
            day_totals = book_totals.setdefault((kind, local_date(p.occurred_at)), {"replayed_fen": 0, "ledger_fen": 0})
            day_totals["ledger_fen"] += p.amount_fen
            if replay.keep_books is ALL or kind in replay.keep_books:
                ledger_books[p.posting_id] = p
        else:
            others[p.kind.value] += p.amount_fen
    operators = set(ledger_print) | set(replay.fingerprints) | {op for op, _ in replay.totals}
    differing = {op for op in operators if ledger_print.get(op, 0) != replay.fingerprints.get(op, 0)}
    totals: dict[tuple[str, str], dict[str, int]] = {}
    for (op, day), fen in replay.totals.items():
        totals[(op, day)] = {"replayed_fen": fen, "ledger_fen": 0 if op in differing else fen}
    diffs: list[Difference] = []
    unresolved = {op for op in differing if kept is not ALL and op not in kept}
    for sid, c in replay.charges.items():
        if c.operator_id not in differing:
            per_session.pop(sid, None)
            continue
        have, _, pids = per_session.pop(sid, (0, c.operator_id, []))
        totals[(c.operator_id, c.day)]["ledger_fen"] += have
        if have != c.amount_fen:
            diffs.append(Difference(sid, c.operator_id, c.day, c.amount_fen, have, c.events, tuple(sorted(pids))))
    for sid, (have, operator, pids) in per_session.items():  # charged, but no archived events lead to it
        if operator not in differing:
            continue
        totals.setdefault((operator, "unknown"), {"replayed_fen": 0, "ledger_fen": 0})["ledger_fen"] += have
        diffs.append(Difference(sid, operator, "unknown", 0, have, (), tuple(sorted(pids))))
    for op in unresolved:  # what is known without the sessions: the operator's ledger total
        totals.setdefault((op, "unknown"), {"replayed_fen": 0, "ledger_fen": 0})["ledger_fen"] += ledger_fen[op]
    kinds = set(ledger_book_print) | set(replay.book_prints)
    differing_kinds = {k for k in kinds if ledger_book_print.get(k, 0) != replay.book_prints.get(k, 0)}
    unresolved_books = {k for k in differing_kinds if replay.keep_books is not ALL and k not in replay.keep_books}
    for pid in set(replay.books) | set(ledger_books):
        mine, theirs = replay.books.get(pid), ledger_books.get(pid)
        p = mine or theirs
        if p.kind.value not in differing_kinds or (mine and theirs and book_hash(mine) == book_hash(theirs)):
            continue
        lot = replay.lots.get(p.refs.get("lot_id", ""))
        revenue = [e.account for e in p.entries if e.account.startswith("operator_revenue:")]
        operator = lot.operator_id if lot else revenue[0].split(":", 1)[1] if revenue else ""
        diffs.append(Difference(
            p.refs.get("session_id", ""), operator, local_date(p.occurred_at), mine.amount_fen if mine else 0,
            theirs.amount_fen if theirs else 0, (), (pid,), p.kind.value, p.refs.get("bill_id", ""),
        ))  # fmt: skip
    diffs.sort(key=lambda d: (d.day, d.operator_id, d.session_id, d.kind))
    return Comparison(totals, diffs, dict(others), unresolved, book_totals, unresolved_books)
