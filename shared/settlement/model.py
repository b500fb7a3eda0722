"""Settlement statements, computed from ledger postings. Pure: no I/O.

A statement covers one operator and one local day (Asia/Shanghai). The money already sits with the
operator (destination charges), so the statement is a document: every figure is a sum of ledger postings,
and ``ledger`` holds the movement of each ledger account the covered postings touch, which the check
(``SettlementService.check``) compares with the ledger's own lines.

Which postings a statement covers: those of its day not covered yet, plus **late** ones: postings dated
on an earlier, already settled day that no statement covers (a late callback, a lost callback applied by
reconciliation). Late postings count in ``adjustments``, never by rewriting an issued statement.

Sign convention of the ledger (debit > 0, credit < 0); figures in a statement are positive amounts.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterable
from datetime import date, datetime, time, timedelta

from pydantic import BaseModel, Field

from shared.clock import SHANGHAI
from shared.ledger.accounts import AccountKind
from shared.ledger.model import Posting, PostingKind

WRITE_OFF_PREFIX = "writeoff:"  # posting ids of write-offs (shared/arrears/service.py)


def day_window(day: date) -> tuple[datetime, datetime]:
    """[00:00, 24:00) of ``day`` in Asia/Shanghai."""
    start = datetime.combine(day, time.min, SHANGHAI)
    return start, start + timedelta(days=1)


def local_day(at: datetime) -> str:
    return at.astimezone(SHANGHAI).date().isoformat()


def statement_id(operator_id: str, day: str) -> str:
    return f"st_{operator_id}_{day}"


class Figures(BaseModel):
    """Sums of one set of postings for one operator (fen, all >= 0 except the movements)."""

    sessions: int = 0  # distinct sessions charged
    gross_billed_fen: int = 0
    discounts_fen: int = 0
    dispute_adjustments_fen: int = 0
    collected_fen: dict[str, int] = Field(default_factory=dict)  # per channel (provider if no channel)
    refunds_fen: int = 0
    written_off_fen: int = 0
    arrears_reinstated_fen: int = 0  # write-offs reversed because the driver paid after all
    incentives_fen: int = 0
    paid_out_fen: int = 0  # provider settlement to the operator's account
    other_reversals_fen: int = 0
    postings: int = 0

    @property
    def collected_total_fen(self) -> int:
        return sum(self.collected_fen.values())

    @property
    def receivable_movement_fen(self) -> int:
        """What the figures say drivers' debts moved by (debit > 0)."""
        return (
            self.gross_billed_fen - self.discounts_fen - self.dispute_adjustments_fen - self.collected_total_fen
            + self.refunds_fen - self.written_off_fen + self.arrears_reinstated_fen
        )  # fmt: skip


class LotFigures(BaseModel):
    sessions: int = 0
    net_revenue_fen: int = 0  # charges - discounts - dispute adjustments


class Statement(BaseModel):
    statement_id: str
    operator_id: str
    district_code: str
    day: str
    issued_at: datetime
    current: Figures  # postings of the statement's own day
    adjustments: Figures  # late postings of earlier days
    late_days: list[str] = Field(default_factory=list)
    lots: dict[str, LotFigures] = Field(default_factory=dict)  # current + late, per lot (fee basis, pushes)
    ledger: dict[str, int] = Field(default_factory=dict)  # account -> movement of the covered postings
    opening_receivables_fen: int = 0
    closing_receivables_fen: int = 0  # outstanding receivables: opening + receivable movement
    unattributed: int = 0  # postings read that no operator could be found for (should be 0)

    def view(self) -> dict:
        return {**self.model_dump(mode="json"), "collected_total_fen": self.current.collected_total_fen}


def attribute(posting: Posting, operator_of_lot: Callable[[str], str | None], lot_of_bill: Callable[[str], str | None]) -> str | None:
    """The operator a posting belongs to: from an operator account, else its lot, else its bill's lot."""
    for e in posting.entries:
        kind, _, ident = e.account.partition(":")
        if kind in (AccountKind.OPERATOR_REVENUE.value, AccountKind.OPERATOR_DISCOUNTS.value):
            return ident
    lot = posting.refs.get("lot_id") or (lot_of_bill(posting.refs["bill_id"]) if posting.refs.get("bill_id") else None)
    return operator_of_lot(lot) if lot else None


def lot_of(posting: Posting, lot_of_bill: Callable[[str], str | None]) -> str | None:
    return posting.refs.get("lot_id") or (lot_of_bill(posting.refs["bill_id"]) if posting.refs.get("bill_id") else None)


def _positive(posting: Posting) -> int:
    return posting.amount_fen


def add(figures: Figures, posting: Posting, sessions: set[str]) -> None:
    """Count one posting into ``figures`` (``sessions`` collects distinct charged sessions)."""
    amount = _positive(posting)
    figures.postings += 1
    match posting.kind:
        case PostingKind.CHARGE:
            figures.gross_billed_fen += amount
            if sid := posting.refs.get("session_id"):
                sessions.add(sid)
        case PostingKind.DISCOUNT:
            figures.discounts_fen += amount
        case PostingKind.ADJUSTMENT:
            figures.dispute_adjustments_fen += amount
        case PostingKind.PAYMENT:
            channel = posting.refs.get("channel") or _provider(posting)
            figures.collected_fen[channel] = figures.collected_fen.get(channel, 0) + amount
        case PostingKind.REFUND:
            figures.refunds_fen += amount
        case PostingKind.WRITE_OFF:
            figures.written_off_fen += amount
        case PostingKind.INCENTIVE:
            figures.incentives_fen += amount
        case PostingKind.SETTLEMENT:
            figures.paid_out_fen += amount
        case PostingKind.REVERSAL if posting.refs.get("reverses", "").startswith(WRITE_OFF_PREFIX):
            figures.arrears_reinstated_fen += amount
        case _:
            figures.other_reversals_fen += amount
    figures.sessions = len(sessions)


def _provider(posting: Posting) -> str:
    for e in posting.entries:
        if e.account.startswith(AccountKind.PROVIDER_CLEARING.value + ":"):
            return e.account.partition(":")[2]
    return "unknown"


def movements(postings: Iterable[Posting]) -> dict[str, int]:
    """Movement per account, receivables summed into one ``receivable:*`` figure (one per plate is noise)."""
    out: dict[str, int] = {}
    for p in postings:
        for e in p.entries:
            key = "receivable:*" if e.account.startswith(AccountKind.RECEIVABLE.value + ":") else e.account
            out[key] = out.get(key, 0) + e.amount_fen
    return {k: v for k, v in sorted(out.items()) if v}


def identity_problems(st: Statement) -> list[str]:
    """The statement's figures must explain its ledger movements exactly (fen)."""
    problems = []
    both = Figures()
    for f in (st.current, st.adjustments):
        for name in Figures.model_fields:
            if name == "collected_fen":
                for ch, v in f.collected_fen.items():
                    both.collected_fen[ch] = both.collected_fen.get(ch, 0) + v
            elif name != "sessions":
                setattr(both, name, getattr(both, name) + getattr(f, name))
    revenue = -st.ledger.get(f"operator_revenue:{st.operator_id}", 0)
    want = both.gross_billed_fen - both.dispute_adjustments_fen - both.incentives_fen - both.paid_out_fen
    if both.other_reversals_fen == 0 and revenue != want:
        problems.append(f"{st.statement_id}: operator revenue moved {revenue} fen, figures say {want}")
    discounts = st.ledger.get(f"operator_discounts:{st.operator_id}", 0)
    if discounts != both.discounts_fen:
        problems.append(f"{st.statement_id}: discounts moved {discounts} fen, figures say {both.discounts_fen}")
    receivable = st.ledger.get("receivable:*", 0)
    if both.other_reversals_fen == 0 and receivable != both.receivable_movement_fen:
        problems.append(f"{st.statement_id}: receivables moved {receivable} fen, figures say {both.receivable_movement_fen}")
    if st.closing_receivables_fen != st.opening_receivables_fen + receivable:
        problems.append(f"{st.statement_id}: closing receivables do not follow from opening + movement")
    return problems


def build(
    operator_id: str, district_code: str, day: str, issued_at: datetime, own: list[Posting], late: list[Posting],
    lot_of_posting: Callable[[Posting], str | None], opening_receivables_fen: int,
) -> Statement:
    """A statement from the operator's postings of the day (``own``) and its late postings."""
    current, adjustments = Figures(), Figures()
    s_current: set[str] = set()
    s_late: set[str] = set()
    lots: dict[str, LotFigures] = {}
    lot_sessions: dict[str, set[str]] = {}
    for p in own:
        add(current, p, s_current)
    for p in late:
        add(adjustments, p, s_late)
    for p in (*own, *late):
        lot = lot_of_posting(p)
        if lot is None or p.kind not in (PostingKind.CHARGE, PostingKind.DISCOUNT, PostingKind.ADJUSTMENT):
            continue
        lf = lots.setdefault(lot, LotFigures())
        lf.net_revenue_fen += p.amount_fen if p.kind is PostingKind.CHARGE else -p.amount_fen
        if p.kind is PostingKind.CHARGE and (sid := p.refs.get("session_id")):
            lot_sessions.setdefault(lot, set()).add(sid)
            lf.sessions = len(lot_sessions[lot])
    ledger = movements([*own, *late])
    return Statement(
        statement_id=statement_id(operator_id, day), operator_id=operator_id, district_code=district_code, day=day,
        issued_at=issued_at, current=current, adjustments=adjustments,
        late_days=sorted({local_day(p.occurred_at) for p in late}), lots=dict(sorted(lots.items())), ledger=ledger,
        opening_receivables_fen=opening_receivables_fen,
        closing_receivables_fen=opening_receivables_fen + ledger.get("receivable:*", 0),
    )


CSV_COLUMNS = (
    "statement_id", "operator_id", "district_code", "day", "section", "sessions", "gross_billed_fen", "discounts_fen",
    "dispute_adjustments_fen", "collected_total_fen", "refunds_fen", "written_off_fen", "arrears_reinstated_fen",
    "incentives_fen", "paid_out_fen", "postings",
)


def to_csv(statements: Iterable[Statement]) -> bytes:
    """UTF-8 with a BOM, so spreadsheet software set to a Chinese locale reads it as UTF-8. One row per
    statement section (current day, late adjustments), then one per channel collected."""
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\r\n")
    w.writerow([*CSV_COLUMNS, "channel", "channel_collected_fen"])
    for st in statements:
        for section, f in (("current", st.current), ("adjustments", st.adjustments)):
            base = [st.statement_id, st.operator_id, st.district_code, st.day, section, f.sessions, f.gross_billed_fen,
                    f.discounts_fen, f.dispute_adjustments_fen, f.collected_total_fen, f.refunds_fen, f.written_off_fen,
                    f.arrears_reinstated_fen, f.incentives_fen, f.paid_out_fen, f.postings]
            w.writerow([*base, "", ""])
            for channel, fen in sorted(f.collected_fen.items()):
                w.writerow([*base, channel, fen])
    return "\ufeff".encode() + out.getvalue().encode("utf-8")


# The platform service fee (S10)

class FeeRate(BaseModel):
    effective_from: date
    basis_points: int = Field(ge=0, le=10_000)  # 1 bp = 0.01 %


def half_of(label: str) -> tuple[date, date]:
    """``2026H1`` -> [2026-01-01, 2026-07-01)."""
    try:
        year, half = int(label[:4]), label[4:]
        if half not in ("H1", "H2") or len(label) != 6:
            raise ValueError
    except ValueError:
        from shared.errors import InvalidInput

        raise InvalidInput(f"a half year is written like 2026H1, not {label!r}", code="bad_half") from None
    return (date(year, 1, 1), date(year, 7, 1)) if half == "H1" else (date(year, 7, 1), date(year + 1, 1, 1))


def rate_on(rates: list[FeeRate], day: date) -> int:
    """Basis points in effect on ``day`` (the latest rate effective on or before it; 0 before any)."""
    effective = [r for r in rates if r.effective_from <= day]
    return max(effective, key=lambda r: r.effective_from).basis_points if effective else 0


class FeeStatement(BaseModel):
    fee_id: str
    operator_id: str
    district_code: str
    half: str
    revenue_fen: int  # net parking revenue of the operator's government-owned lots in the half
    fee_fen: int
    rates: list[dict]  # the rate(s) applied and the revenue each applied to
    days_settled: int
    posting_id: str
    issued_at: datetime


def fee(revenue_by_day: dict[str, int], rates: list[FeeRate]) -> tuple[int, list[dict]]:
    """Fee = sum over days of revenue x the rate in effect that day, rounded half up once, to the fen."""
    per_rate: dict[int, int] = {}
    for day, revenue in revenue_by_day.items():
        bp = rate_on(rates, date.fromisoformat(day))
        per_rate[bp] = per_rate.get(bp, 0) + revenue
    total_bp_fen = sum(bp * rev for bp, rev in per_rate.items())
    amount = (total_bp_fen + 5_000) // 10_000 if total_bp_fen >= 0 else 0
    return amount, [{"basis_points": bp, "revenue_fen": rev} for bp, rev in sorted(per_rate.items())]
