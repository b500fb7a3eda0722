"""Shared-parking offers, applications and the rights they become, and what a right does to a stay's
price. Pure: no I/O.

An offer is a unit's spaces in one lot or a pool of lots of one district (regional sharing), for set
windows (weekdays and local hours; an end at or before the start runs past midnight), at a monthly fee.
An application names up to 5 plates and a number of months; approving it takes one of the offer's spaces
and makes it a right valid from the approval for those months (a renewal extends it; a cancellation ends
it and frees the space). Each change is a new version with its actor in the history.

The right's fee is collected through the pay code: each term (the approval, every renewal) is a bill of
its own (``Term.bill_id``, derived from the application and the term's number), charged to the plate of
the right and earned by the offer's operator. A right is in force only over its paid terms: from the
approval's start to the end of the last term of the unbroken run of paid terms (``paid_until``). There is
no grace: an unpaid first term means the right does not cover any stay yet, an unpaid renewal means the
right lapses at the end of the last paid term (the renewal's dates are kept; paying later reinstates it).
A cancellation voids the terms not yet paid (nothing is refunded for paid ones).

A right's plate parking in one of its lots is billed by the right (its monthly fee) inside the windows
and by the lot's tariff outside them: each stretch of the stay outside the windows is priced as a stay of
its own, so an overstay is billed by the tariff from the window's end.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, time, timedelta
from enum import Enum
from typing import Any

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, StrictInt, model_validator

from shared.clock import SHANGHAI
from shared.registry.model import Identifier

MONTH = timedelta(days=30)


class Window(BaseModel):
    model_config = ConfigDict(extra="forbid")

    weekdays: list[int] = Field(min_length=1, max_length=7, description="ISO weekdays the window starts on, 1 = Monday.")
    start: time = Field(description="Asia/Shanghai local time.")
    end: time = Field(description="At or before start: the next day.")

    @model_validator(mode="after")
    def _days(self) -> Window:
        if any(d < 1 or d > 7 for d in self.weekdays) or len(set(self.weekdays)) != len(self.weekdays):
            raise ValueError("weekdays are distinct ISO weekdays 1..7")
        return self

    def intervals(self, start: datetime, end: datetime) -> list[tuple[datetime, datetime]]:
        """The window's occurrences that overlap [start, end)."""
        out = []
        day = start.astimezone(SHANGHAI).date() - timedelta(days=1)
        while day <= end.astimezone(SHANGHAI).date():
            if day.isoweekday() in self.weekdays:
                a = datetime.combine(day, self.start, SHANGHAI)
                b = datetime.combine(day + timedelta(days=1) if self.end <= self.start else day, self.end, SHANGHAI)
                if a < end and b > start:
                    out.append((a, b))
            day += timedelta(days=1)
        return out


class OfferStatus(str, Enum):
    OPEN = "open"
    WITHDRAWN = "withdrawn"


class Offer(BaseModel):
    model_config = ConfigDict(extra="forbid")

    offer_id: Identifier
    name: str = Field(min_length=1, max_length=100)
    lot_ids: list[Identifier] = Field(min_length=1, max_length=50, description="One lot, or a regional pool.")
    windows: list[Window] = Field(min_length=1, max_length=14)
    spaces: StrictInt = Field(ge=1, le=10_000)
    monthly_fee_fen: StrictInt = Field(ge=0, le=10_000_000)
    district_code: str | None = None  # set by the service from the lots
    operator_id: str | None = None
    granted: int = Field(0, ge=0, description="Rights holding a space; kept by the store.")
    status: OfferStatus = OfferStatus.OPEN
    created_by: str | None = None
    version: int = Field(1, ge=1)

    def bumped(self, **changes) -> Offer:
        return self.model_copy(update={**changes, "version": self.version + 1})


class ApplicationStatus(str, Enum):
    PENDING = "pending"
    APPROVED = "approved"  # a right
    REJECTED = "rejected"
    CANCELLED = "cancelled"


class Change(BaseModel):
    at: datetime
    actor: str
    action: str
    note: str | None = None


class Term(BaseModel):
    """One paid-for stretch of a right: the approval's months, or a renewal's."""

    number: int = Field(ge=0)
    months: int = Field(ge=1)
    fee_fen: int = Field(ge=0)
    starts: AwareDatetime
    ends: AwareDatetime
    bill_id: str | None = Field(None, description="The bill collecting the fee (none for a free right).")
    paid_at: AwareDatetime | None = None


def fee_session_id(application_id: str, number: int) -> str:
    """What a term's bill stands in for a parking session with: its bill id derives from it."""
    return f"share:{application_id}:{number}"


def parse_fee_session_id(session_id: str) -> tuple[str, int] | None:
    kind, _, rest = session_id.partition(":")
    application_id, _, number = rest.rpartition(":")
    return (application_id, int(number)) if kind == "share" and application_id and number.isdigit() else None


class Application(BaseModel):
    application_id: str
    offer_id: str
    applicant: str
    plates: list[str] = Field(min_length=1, max_length=5)
    months: StrictInt = Field(ge=1, le=12)
    status: ApplicationStatus = ApplicationStatus.PENDING
    valid_from: AwareDatetime | None = None
    valid_until: AwareDatetime | None = None
    fee_fen: int = Field(0, ge=0, description="What the right costs: the monthly fee times the months granted.")
    district_code: str
    operator_id: str | None = None
    history: list[Change] = Field(default_factory=list)
    terms: list[Term] = Field(default_factory=list, description="The approval's and each renewal's fee and dates.")
    created_at: AwareDatetime
    version: int = 1

    @property
    def paid_until(self) -> datetime | None:
        """The end of the unbroken run of paid terms from the first: the right is in force until then."""
        until = None
        for term in self.terms:
            if term.paid_at is None:
                break
            until = term.ends
        return until if until is None or self.valid_until is None else min(until, self.valid_until)

    def bumped(self, actor: str, action: str, now: datetime, note: str | None = None, **changes) -> Application:
        return self.model_copy(update={**changes, "version": self.version + 1,
                                       "history": [*self.history, Change(at=now, actor=actor, action=action, note=note)]})

    def active(self, at: datetime) -> bool:
        paid_until = self.paid_until
        return (self.status is ApplicationStatus.APPROVED and self.valid_from is not None
                and paid_until is not None and self.valid_from <= at < paid_until)


def covered(offer: Offer, right: Application, start: datetime, end: datetime) -> list[tuple[datetime, datetime]]:
    """The stretches of [start, end) a right covers: its offer's windows within its paid validity, merged."""
    lo, hi = max(start, right.valid_from or end), min(end, right.paid_until or start)
    spans = sorted((max(a, lo), min(b, hi)) for w in offer.windows for a, b in w.intervals(lo, hi) if max(a, lo) < min(b, hi))
    merged: list[tuple[datetime, datetime]] = []
    for a, b in spans:
        if merged and a <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], b))
        else:
            merged.append((a, b))
    return merged


def adjustment(
    tariff_fen: int, spans: list[tuple[datetime, datetime]], start: datetime, end: datetime,
    price: Callable[[datetime, datetime], int], right: Application,
) -> dict[str, Any] | None:  # fmt: skip
    """The breakdown line of a right: the tariff replaced by the price of the stretches outside it."""
    if not spans:
        return None
    outside, at = [], start
    for a, b in spans:
        if at < a:
            outside.append((at, a))
        at = max(at, b)
    if at < end:
        outside.append((at, end))
    billed = sum(price(a, b) for a, b in outside)
    return {"kind": "shared_parking_right", "application_id": right.application_id,
            "amount_fen": min(0, billed - tariff_fen),
            "inside_minutes": sum(int((b - a).total_seconds() // 60) for a, b in spans),
            "outside": [{"from": a.isoformat(), "until": b.isoformat(), "amount_fen": price(a, b)} for a, b in outside]}
