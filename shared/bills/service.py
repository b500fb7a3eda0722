"""Pricing sessions into bills, finding a car's bill at a lane or by plate, and showing bills to the
people allowed to see them.

``ensure`` is idempotent and may run any number of times for a session (the exit, a retried exit, the pay
page, prepay): it prices the session to its exit (or to now while parked), and posts only the difference
from what was already charged, in the same transaction as the bill's new version.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from datetime import datetime, timedelta

from shared.bills.model import PAY_LATER_GRACE, Bill, bill_id_for, price_until
from shared.bills.paging import PAGE, BillCursor
from shared.clock import Clock
from shared.errors import Conflict, NotFound
from shared.ledger.model import Posting
from shared.payments.ports import Change, MoneyStore
from shared.registry.model import Lot
from shared.sessions.model import ParkingSession, SessionStatus
from shared.tariffs.quote import Quote

ATTEMPTS = 5
LANE_LOOKBACK = timedelta(minutes=30)  # a lane's pay code shows cars that left it this recently

Pricer = Callable[[Lot, datetime, datetime, ParkingSession], Quote | None]


class BillContention(Conflict):
    code = "contention"


class BillingService:
    def __init__(self, money: MoneyStore, pricer: Pricer, clock: Clock) -> None:
        self._money, self._price, self._clock = money, pricer, clock

    def ensure(self, session: ParkingSession, lot: Lot, lane: str | None = None) -> Bill | None:
        """The session's bill, priced to its exit (or to now while parked); None if the lot charges nothing
        or the stay has no known start (an exit without entry is reviewed by staff, never billed blind)."""
        if session.entered_at is None:
            return None
        for _ in range(ATTEMPTS):
            current = self._money.bill(bill_id_for(session.session_id))
            end = price_until(current, session.exited_at or self._clock.now())
            quote = self._price(lot, session.entered_at, end, session)
            if quote is None:
                return None
            bill, change = self._reprice(current, session, lot, lane, end, quote)
            if change is None or self._money.commit(change):
                return bill
        raise BillContention(f"the bill of session {session.session_id} keeps changing; retry")

    def reprice(
        self, current: Bill | None, session: ParkingSession, lot: Lot, lane: str | None, quote: Quote,
        pay_later: bool = False,
    ) -> tuple[Bill, Change | None]:
        """No reads: the bill priced by ``quote`` from ``current`` (as read by the caller) and the change that
        stores it, conditional on ``current``'s version (None: nothing to store). ``pay_later``: the car
        leaves on pay-later, marked on the bill (with the end of its grace period) in the same change."""
        end = price_until(current, session.exited_at or self._clock.now())
        bill, change = self._reprice(current, session, lot, lane, end, quote)
        if pay_later and not bill.pay_later:
            mark = {"pay_later": True, "grace_ends": (session.exited_at or self._clock.now()) + PAY_LATER_GRACE}
            if change is None:
                bill = bill.bumped(**mark)
                change = Change(bills=[bill])
            else:
                bill = bill.model_copy(update=mark)
                change.bills = [bill]
        return bill, change

    def _reprice(self, current, session, lot, lane, end, quote) -> tuple[Bill, Change | None]:
        now = self._clock.now()
        exited = {"exited_at": session.exited_at, "lane": lane or (current.lane if current else None)}
        if current is None:
            bill = Bill(
                bill_id=bill_id_for(session.session_id), session_id=session.session_id, lot_id=lot.lot_id,
                operator_id=lot.operator_id, district_code=lot.district_code, plate=session.plate,
                plate_colour=session.plate_colour, vehicle_class=session.vehicle_class,
                entered_at=session.entered_at, priced_until=end, tariff_id=quote.tariff_id,
                amount_fen=quote.amount_fen, breakdown=quote.as_dict(), created_at=now, **exited,
            )  # fmt: skip
            postings = [self._charge(bill, quote.amount_fen, 0)] if quote.amount_fen else []
            opened = (lot.lot_id, session.subject, session.session_id) if session.exited_at is None else None
            return bill, Change(bills=[bill], postings=postings, open_session=opened)
        # Prices never fall as a stay grows (a property of the engine): a lower figure means a stale read.
        delta = max(0, quote.amount_fen - current.amount_fen)
        unchanged = delta == 0 and current.exited_at == session.exited_at and current.lane == exited["lane"]
        if unchanged:
            return current, None
        bill = current.bumped(
            amount_fen=current.amount_fen + delta, priced_until=max(end, current.priced_until or end),
            breakdown=quote.as_dict() if delta else current.breakdown, **exited,
        )  # fmt: skip
        postings = [self._charge(bill, delta, current.version)] if delta else []
        return bill, Change(bills=[bill], postings=postings)

    def _charge(self, bill: Bill, amount_fen: int, sequence: int) -> Posting:
        return Posting.charge(
            f"charge:{bill.bill_id}:{sequence}", bill.plate, bill.operator_id, amount_fen, self._clock.now(),
            refs={"bill_id": bill.bill_id, "session_id": bill.session_id, "lot_id": bill.lot_id},
        )

    def lower_stays(self, plate: str, lot: Lot, start: datetime, end: datetime, kinds: tuple[str, ...]) -> list[Bill]:
        """A fact that lowers a price arrived after the bill was priced (a late charging report): the plate's
        closed bills in ``lot`` whose stay overlaps [start, end) are priced again, and each is lowered by what
        the breakdown lines of ``kinds`` now take off beyond what they took off when it was priced: an
        adjustment (the operator earned less, the driver owes less) in the same transaction as the bill's
        new version and breakdown. Only those lines count, so a tariff changed since never moves an old
        bill; a price never rises here. Idempotent: priced again, the lines take off nothing more. Returns
        the bills concerned (lowered now or before), for the caller to refund what they leave overpaid."""
        out = []
        for bill in self._newest(plate):
            if (bill.lot_id != lot.lot_id or bill.is_open or bill.entered_at is None or bill.priced_until is None
                    or bill.tariff_id is None or not (bill.entered_at < end and start < bill.exited_at)):
                continue
            out.append(self._lower(bill, lot, kinds))
        return out

    def _lower(self, bill: Bill, lot: Lot, kinds: tuple[str, ...]) -> Bill:
        for _ in range(ATTEMPTS):
            bill = self._money.bill(bill.bill_id)
            stay = ParkingSession(
                session_id=bill.session_id, lot_id=bill.lot_id, district_code=bill.district_code, plate=bill.plate,
                plate_colour=bill.plate_colour, vehicle_class=bill.vehicle_class, status=SessionStatus.CLOSED,
                entered_at=bill.entered_at, exited_at=bill.exited_at,
            )  # fmt: skip
            quote = self._price(lot, bill.entered_at, bill.priced_until, stay)
            if quote is None:
                return bill
            new_breakdown = quote.as_dict()
            taken_off = _off(new_breakdown, kinds) - _off(bill.breakdown, kinds)
            reduction = min(taken_off, bill.amount_fen - bill.discount_fen - bill.adjusted_fen - bill.written_off_fen)
            if reduction <= 0:
                return bill
            lowered = bill.bumped(adjusted_fen=bill.adjusted_fen + reduction, breakdown=new_breakdown)
            posting = Posting.adjustment(
                f"lower:{bill.bill_id}:{bill.version}", bill.plate, bill.operator_id, reduction, self._clock.now(),
                refs={"bill_id": bill.bill_id, "session_id": bill.session_id, "lot_id": bill.lot_id, "cause": ",".join(kinds)},
            )  # fmt: skip
            if self._money.commit(Change(bills=[lowered], postings=[posting])):
                return lowered
        raise BillContention(f"bill {bill.bill_id} keeps changing; retry")

    def get(self, bill_id: str) -> Bill:
        bill = self._money.bill(bill_id)
        if bill is None:
            raise NotFound(f"bill {bill_id} does not exist", code="unknown_bill")
        return bill

    def view(self, principal, bill_id: str) -> Bill:
        """Staff of the bill's district and its operator; to anyone else it does not exist."""
        from shared import access

        access.require_staff(principal, "bills")
        bill = self._money.bill(bill_id)
        access.require_visible(bill is not None and access.may_read_bill(principal, bill), "bill", bill_id, "unknown_bill")
        return bill

    def at_lane(self, lot_id: str, lane: str) -> Bill | None:
        return self._money.bill_at_lane(lot_id, lane, self._clock.now() - LANE_LOOKBACK)

    def latest_unsettled(self, plate: str, lot_id: str | None = None) -> Bill | None:
        for bill in self._newest(plate):
            if (lot_id is None or bill.lot_id == lot_id) and bill.due_fen > 0 and not bill.is_open:
                return bill
        return None

    def of_plate(self, plate: str) -> list[Bill]:
        return list(self._newest(plate))

    def _newest(self, plate: str) -> Iterator[Bill]:
        """A plate's newest 50 bills, newest first, read a page, then twice as many, at a time: a reader that
        stops at the first fitting bill (the pay page's ``latest_unsettled``) reads a few, not fifty."""
        ids = [k.bill_id for k in self._money.bill_keys_of_plate(plate)]
        start, size = 0, PAGE
        while start < len(ids):
            yield from self._money.bills_by_id(ids[start:start + size])
            start, size = start + size, size * 2

    def page_of_plates(
        self, plates: Sequence[str], owns: Callable[[str, datetime], bool], limit: int = PAGE,
        after: BillCursor | None = None,
    ) -> tuple[list[Bill], BillCursor | None]:
        """The newest ``limit`` bills of ``plates`` that ``owns`` accepts, after ``after``; and the cursor of
        the next page (None: no more). One index query per plate, of ``limit + 1`` keys (the one more tells
        whether a next page exists), then the page's bills by id: ``owns`` drops only a plate's bills from
        before its keeper proved it, which are older than every bill it keeps."""
        keys = sorted((k for plate in dict.fromkeys(plates) for k in self._money.bill_keys_of_plate(plate, limit + 1, after)
                       if owns(plate, k.created_at)), reverse=True)  # fmt: skip
        page = self._money.bills_by_id([k.bill_id for k in keys[:limit]])
        return page, (keys[limit - 1] if len(keys) > limit else None)


def _off(breakdown: dict | None, kinds: tuple[str, ...]) -> int:
    """What a breakdown's lines of ``kinds`` take off the tariff's price (fen, >= 0)."""
    return -sum(line.get("amount_fen", 0) for line in (breakdown or {}).get("adjustments", ()) if line.get("kind") in kinds)
