"""Data-hiding and fraud signals of a lot's day (S16). Pure: the day's accepted events in, figures and
signals out, each signal explained by the numbers behind it so that district staff can review it.

Inputs are the lot's events accepted on the local day (from the event archive, each with its ack), its
sessions still open, the bills of its paying exits and its comms outages. Signals:

- ``occupancy_mismatch``: the reported occupancy (``total - free``) moves unlike the sessions: between the
  first and each later report, (reported change) - (entries - exits that happened in between). Drift of a
  +1/-1 counter or traffic the lot never reported as entries and exits both show here.
- ``zero_charge_exits``: exits the gate opened at zero charge (free, no tariff, exit without entry) or that
  the lot opened by hand (``opened_manually``), at a rate well above the lot's usual rate (its own last
  ``BASELINE_DAYS`` days, or the other lots' rate that day when it has too little history).
- ``closed_unpaid``: sessions whose exit asked for payment (gate ``pay``) and whose bill is still unpaid a
  day later (not pay-later, not disputed, not in arrears): the barrier was raised without payment.
- ``entries_never_exited``: sessions open for more than ``STALE_AFTER``: exits not reported.
- ``late_reporting``: events accepted long after they happened. Late events that happened while the lot's
  link was cut are *buffered* (the protocol allows it); late events with no outage to explain them are
  *unexplained*: a lot holding back its data. Only the unexplained ones raise the signal.
- ``frequent_corrections``: the lot's correction and void messages (counted every day in its figures) reach
  ``CORRECTIONS_AT`` and 5 % of its entries and exits: records changed after the fact, however explicitly.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from pydantic import BaseModel, Field

LATE_AFTER = timedelta(minutes=15)
CORRECTIONS_AT = 5
STALE_AFTER = timedelta(days=3)
BASELINE_DAYS = 14
MIN_BASELINE_DAYS = 3
KINDS = ("occupancy_mismatch", "zero_charge_exits", "closed_unpaid", "entries_never_exited", "late_reporting",
         "frequent_corrections")
DECISIONS = ("confirmed", "dismissed")
ZERO_REASONS = ("free", "no_tariff", "unmatched_exit_review")  # the gate opened and nobody paid
ENTRIES, EXITS = ("entry", "berth_start"), ("exit", "berth_end")


class Signal(BaseModel):
    signal_id: str
    kind: str
    lot_id: str
    district_code: str
    operator_id: str
    day: str
    detected_at: datetime
    explanation: str
    numbers: dict
    review: dict | None = Field(None, description="{decision, note, by, at} once district staff reviewed it.")
    version: int = 1

    @property
    def state(self) -> str:
        return "reviewed" if self.review else "open"

    def view(self) -> dict:
        return {**self.model_dump(mode="json"), "state": self.state}


def signal_id(kind: str, lot_id: str, day: str) -> str:
    return f"{kind}:{lot_id}:{day}"


def parse_signal_id(value: str) -> tuple[str, str, str] | None:
    parts = value.split(":")
    if len(parts) != 3 or parts[0] not in KINDS or not all(parts):
        return None
    return parts[0], parts[1], parts[2]


@dataclass(frozen=True)
class Record:
    """One accepted event as archived: what happened, when it happened, when it arrived, and its ack."""

    type: str
    occurred_at: datetime
    accepted_at: datetime
    event: dict
    ack: dict

    @classmethod
    def from_archive(cls, line: dict) -> Record:
        event = line["event"]
        return cls(event.get("type", ""), datetime.fromisoformat(event["occurred_at"]),
                   datetime.fromisoformat(line["accepted_at"]), event, line.get("ack") or {})


@dataclass(frozen=True)
class Exit:
    session_id: str | None
    decision: str
    reason: str
    amount_fen: int
    manual: bool


@dataclass
class LotDay:
    """The figures of one lot's day; the zero-charge rate of past days is the lot's usual rate."""

    lot_id: str
    day: str
    exits: int = 0
    zero_charge: int = 0
    manual: int = 0
    reasons: dict[str, int] = field(default_factory=dict)
    events: int = 0
    late: int = 0
    buffered: int = 0
    corrections: int = 0
    voids: int = 0
    vehicle_events: int = 0

    @property
    def zero_rate(self) -> float | None:
        return (self.zero_charge + self.manual) / self.exits if self.exits else None

    def doc(self) -> dict:
        return {"lot_id": self.lot_id, "day": self.day, "exits": self.exits, "zero_charge": self.zero_charge,
                "manual": self.manual, "reasons": dict(sorted(self.reasons.items())), "events": self.events,
                "late": self.late, "buffered": self.buffered, "corrections": self.corrections, "voids": self.voids,
                "vehicle_events": self.vehicle_events}

    @classmethod
    def from_doc(cls, doc: dict) -> LotDay:
        return cls(**doc)


def exits_of(records: Iterable[Record]) -> list[Exit]:
    out = []
    for r in records:
        if r.type in EXITS and r.ack.get("status") == "accepted":
            gate = r.ack.get("gate") or {}
            out.append(Exit(r.ack.get("session_id"), gate.get("decision", "open"), gate.get("reason", ""),
                            int(gate.get("amount_fen", 0)), bool(r.event.get("opened_manually"))))
    return out


def figures(lot_id: str, day: str, records: list[Record], outages: list[tuple[datetime, datetime]]) -> LotDay:
    fig = LotDay(lot_id, day)
    for e in exits_of(records):
        fig.exits += 1
        if e.manual:
            fig.manual += 1
        elif e.decision == "open" and e.amount_fen == 0 and e.reason in ZERO_REASONS:
            fig.zero_charge += 1
            fig.reasons[e.reason] = fig.reasons.get(e.reason, 0) + 1
    for r in records:
        fig.events += 1
        if r.ack.get("status") == "accepted":
            fig.corrections += r.type == "correction"
            fig.voids += r.type == "void"
            fig.vehicle_events += r.type in ENTRIES + EXITS
        if r.accepted_at - r.occurred_at > LATE_AFTER:
            fig.late += 1
            if any(start <= r.occurred_at <= end for start, end in outages):
                fig.buffered += 1
    return fig


@dataclass(frozen=True)
class Finding:
    kind: str
    explanation: str
    numbers: dict


def occupancy_mismatch(records: list[Record], capacity: int) -> Finding | None:
    reports = sorted((r for r in records if r.type == "occupancy"), key=lambda r: r.occurred_at)
    if len(reports) < 2:
        return None
    moves = sorted(((r.occurred_at, 1 if r.type in ENTRIES else -1) for r in records if r.type in ENTRIES + EXITS
                    and r.ack.get("status") == "accepted"), key=lambda m: m[0])
    first = reports[0]
    base = first.event["total"] - first.event["free"]
    worst, worst_at, entries, exits = 0, None, 0, 0
    for rep in reports[1:]:
        within = [d for at, d in moves if first.occurred_at < at <= rep.occurred_at]
        reported_change = rep.event["total"] - rep.event["free"] - base
        session_change = sum(within)
        gap = reported_change - session_change
        if abs(gap) > abs(worst):
            worst, worst_at = gap, rep.occurred_at
            entries, exits = within.count(1), within.count(-1)
    threshold = max(5, capacity // 10)
    if abs(worst) < threshold:
        return None
    return Finding("occupancy_mismatch",
                   f"reported occupancy moved by {worst + entries - exits:+d} between {first.occurred_at.isoformat()} and "
                   f"{worst_at.isoformat()}, but the lot reported {entries} entries and {exits} exits ({entries - exits:+d}) "
                   f"in that time: {abs(worst)} vehicles unaccounted for (threshold {threshold})",
                   {"reports": len(reports), "from": first.occurred_at.isoformat(), "at": worst_at.isoformat(),
                    "reported_change": worst + entries - exits, "entries": entries, "exits": exits,
                    "session_change": entries - exits, "difference": worst, "threshold": threshold,
                    "capacity": capacity})


def usual_rate(history: list[LotDay], city_rate: float | None) -> tuple[float | None, str]:
    """The lot's own rate over its past days with exits, else the city's rate of the day (other lots)."""
    days = [h for h in history if h.exits]
    if len(days) >= MIN_BASELINE_DAYS:
        return sum(h.zero_charge + h.manual for h in days) / sum(h.exits for h in days), f"lot, {len(days)} days"
    return city_rate, "other lots, same day"


def zero_charge_exits(fig: LotDay, history: list[LotDay], city_rate: float | None) -> Finding | None:
    rate = fig.zero_rate
    usual, basis = usual_rate(history, city_rate)
    if rate is None or usual is None or fig.exits < 10 or fig.zero_charge + fig.manual < 5:
        return None
    if rate < max(2 * usual, usual + 0.15):
        return None
    n = fig.zero_charge + fig.manual
    return Finding("zero_charge_exits",
                   f"{n} of {fig.exits} exits ({rate:.0%}) opened at zero charge or by hand ({fig.manual} manual, "
                   f"{fig.zero_charge} zero-charge: {fig.reasons}); the usual rate is {usual:.0%} ({basis})",
                   {"exits": fig.exits, "zero_charge": fig.zero_charge, "manual": fig.manual, "reasons": fig.reasons,
                    "rate": round(rate, 4), "usual_rate": round(usual, 4), "usual_basis": basis})


def closed_unpaid(unpaid: list[tuple[str, int]], paying_exits: int) -> Finding | None:
    """``unpaid``: (session id, fen due) of exits that asked for payment and are still unpaid."""
    if len(unpaid) < 3:
        return None
    due = sum(fen for _, fen in unpaid)
    return Finding("closed_unpaid",
                   f"{len(unpaid)} of {paying_exits} exits that had to pay left without paying: {due} fen unpaid "
                   "(not pay-later, not disputed, not in arrears)",
                   {"paying_exits": paying_exits, "unpaid": len(unpaid), "unpaid_fen": due,
                    "sessions": sorted(s for s, _ in unpaid)[:20]})


def entries_never_exited(stale: list[tuple[str, datetime]], capacity: int, as_of: datetime) -> Finding | None:
    """``stale``: (session id, entered at) of sessions open for longer than ``STALE_AFTER`` at ``as_of``."""
    threshold = max(3, capacity // 20)
    if len(stale) < threshold:
        return None
    oldest = min(at for _, at in stale)
    return Finding("entries_never_exited",
                   f"{len(stale)} sessions entered more than {STALE_AFTER.days} days before {as_of.isoformat()} never "
                   f"exited (oldest {oldest.isoformat()}; threshold {threshold}, capacity {capacity})",
                   {"open_over_days": STALE_AFTER.days, "sessions": len(stale), "oldest_entry": oldest.isoformat(),
                    "threshold": threshold, "capacity": capacity, "session_ids": sorted(s for s, _ in stale)[:20]})


def late_reporting(fig: LotDay, records: list[Record], outages: list[tuple[datetime, datetime]]) -> Finding | None:
    unexplained = [r for r in records if r.accepted_at - r.occurred_at > LATE_AFTER
                   and not any(start <= r.occurred_at <= end for start, end in outages)]
    if len(unexplained) < 5 or len(unexplained) < 0.05 * fig.events:
        return None
    lags = sorted(int((r.accepted_at - r.occurred_at).total_seconds()) for r in unexplained)
    by_type: dict[str, int] = {}
    for r in unexplained:
        by_type[r.type] = by_type.get(r.type, 0) + 1
    return Finding("late_reporting",
                   f"{len(unexplained)} of {fig.events} events arrived more than {int(LATE_AFTER.total_seconds() // 60)} "
                   f"minutes after they happened while the lot's link was up (median {lags[len(lags) // 2]} s, "
                   f"longest {lags[-1]} s; {dict(sorted(by_type.items()))}); {fig.buffered} other late events happened "
                   f"during {len(outages)} link outage(s) and count as buffered",
                   {"events": fig.events, "late": fig.late, "buffered": fig.buffered, "unexplained": len(unexplained),
                    "median_lag_s": lags[len(lags) // 2], "max_lag_s": lags[-1], "by_type": by_type,
                    "outages": len(outages), "late_after_s": int(LATE_AFTER.total_seconds())})


def frequent_corrections(fig: LotDay) -> Finding | None:
    n = fig.corrections + fig.voids
    if n < CORRECTIONS_AT or n < 0.05 * fig.vehicle_events:
        return None
    return Finding("frequent_corrections",
                   f"the lot changed {n} records after sending them ({fig.corrections} corrections, {fig.voids} voids) "
                   f"against {fig.vehicle_events} entries and exits",
                   {"corrections": fig.corrections, "voids": fig.voids, "vehicle_events": fig.vehicle_events,
                    "threshold": CORRECTIONS_AT})
