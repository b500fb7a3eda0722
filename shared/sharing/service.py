"""Off-peak and regional shared parking: offers (the unit's operator, its district), applications
(citizens, for plates verified on their account), decisions, renewals, cancellations, and the right's
price line at the exit (the pricer hook).

The fee (``shared.sharing.model``: terms): approving an application, and every renewal, adds a term with
its own bill, charged to the right's first plate and earned by the offer's operator (a pool of several
operators' lots: the operator of its first lot), payable like a parking bill through the pay code
(``POST /v1/bills/{bill_id}/payments``, the providers' callbacks, applied once). The payment's
``bill_settled`` reaction marks the term paid, which puts the right in force. The application is saved
first and its term's bill created after it, from ids derived from the application: a crash between the two
is repaired by the next read of the application (``application``) or change to it; a cancellation voids
the unpaid terms' bills (an adjustment posting: the operator did not earn them).

Scoping: an offer's lots are one district's; its operator (if all its lots are one operator's), that
district's staff and city admins manage it and decide its applications; auditors read; a citizen sees
and changes only their own applications.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from datetime import datetime

from shared.auth import Principal, Role
from shared.bills.model import Bill, bill_id_for
from shared.clock import Clock
from shared.ledger.model import Posting
from shared.payments.ports import Change, MoneyStore
from shared.plates import PlateColour, parse as parse_plate
from shared.protocol.events import VehicleClass
from shared.errors import Conflict, Forbidden, InvalidInput, NotFound
from shared.registry.model import Lot
from shared.scenarios import parse, with_lines
from shared.sharing import model
from shared.sharing.model import (
    MONTH,
    Application,
    ApplicationStatus,
    Offer,
    OfferStatus,
    Term,
    fee_session_id,
    parse_fee_session_id,
)
from shared.sharing.ports import SharingStore

ATTEMPTS = 6


def _manages(principal: Principal, offer: Offer) -> bool:
    if principal.role is Role.CITY_ADMIN:
        return True
    if principal.role in (Role.DISTRICT_ADMIN, Role.DISTRICT_PLATFORM):
        return principal.district_code == offer.district_code
    return principal.role is Role.OPERATOR and offer.operator_id is not None and principal.operator_id == offer.operator_id


class SharingService:
    def __init__(self, store: SharingStore, lot: Callable[[str], Lot], plates_of: Callable[[Principal], set[str]],
                 clock: Clock, money: MoneyStore | None = None, flag_lot: Callable[[str], object] | None = None) -> None:  # fmt: skip
        self._store, self._lot, self._plates_of, self._clock, self._money = store, lot, plates_of, clock, money
        self._flag_lot = flag_lot  # marks the lot as having scenario policies (Lot.scenario_policies)

    # Offers
    def create_offer(self, principal: Principal, data: object) -> Offer:
        if not isinstance(data, dict):
            raise InvalidInput("a JSON object body is required", code="invalid_json")
        fields = {k: v for k, v in data.items() if k not in ("district_code", "operator_id", "granted", "status", "created_by", "version")}
        offer = parse(Offer, {**fields, "created_by": principal.subject}, code="invalid_offer")
        lots = [self._lot(lot_id) for lot_id in offer.lot_ids]
        districts, operators = {lot.district_code for lot in lots}, {lot.operator_id for lot in lots}
        if len(districts) != 1:
            raise InvalidInput("a regional pool's lots are in one district", code="invalid_offer")
        offer = offer.model_copy(update={"district_code": districts.pop(),
                                         "operator_id": operators.pop() if len(operators) == 1 else None})
        if principal.role is Role.OPERATOR and offer.operator_id != principal.operator_id:
            raise Forbidden(f"{principal.subject} may offer only its own lots", code="lot_forbidden")
        if not _manages(principal, offer):
            raise Forbidden(f"{principal.subject} may not offer lots of district {offer.district_code}", code="district_forbidden")
        for lot_id in offer.lot_ids if self._flag_lot is not None else ():
            self._flag_lot(lot_id)  # first: a right the pricer would not look for must never exist
        if not self._store.save_offer(offer):
            raise Conflict(f"offer {offer.offer_id} exists", code="already_exists")
        return offer

    def withdraw_offer(self, principal: Principal, offer_id: str, data: object) -> Offer:
        """The offer's managers close it: no new applications, approvals or renewals. Rights already
        approved run to the end of their terms (a unit's residents keep what they paid for; the spaces come
        back as the terms end); applications still pending are rejected. Versioned: the body names the
        offer's version. A repeat of a done withdrawal answers the withdrawn offer and finishes rejecting
        what a crash left pending."""
        if not isinstance(data, dict):
            raise InvalidInput("a JSON object body is required", code="invalid_json")
        offer = self.offer(offer_id)
        if principal.is_citizen or not _manages(principal, offer):
            raise Forbidden("the offer's operator or district withdraws it", code="role_forbidden")
        if offer.status is OfferStatus.OPEN:
            if type(data.get("version")) is not int:
                raise InvalidInput("the body names the offer's version: {version}", code="version_required")
            if data["version"] != offer.version:
                raise Conflict(f"offer {offer_id} is at version {offer.version}", code="version_conflict",
                               current_version=offer.version)
            offer = offer.bumped(status=OfferStatus.WITHDRAWN)
            if not self._store.save_offer(offer):
                raise Conflict("the offer changed; read it again", code="version_conflict")
        note = data.get("note") if isinstance(data.get("note"), str) else "the offer was withdrawn"
        for app in self._store.of_offer(offer_id):
            for _ in range(ATTEMPTS):
                if app is None or app.status is not ApplicationStatus.PENDING:
                    break
                rejected = app.bumped(principal.subject, "rejected", self._clock.now(), note[:500], status=ApplicationStatus.REJECTED)
                if self._store.save_application(rejected):
                    break
                app = self._store.application(app.application_id)
        return offer

    def offer(self, offer_id: str) -> Offer:
        offer = self._store.offer(offer_id)
        if offer is None:
            raise NotFound(f"offer {offer_id} does not exist", code="unknown_offer")
        return offer

    # Applications
    def apply(self, principal: Principal, offer_id: str, data: object) -> Application:
        if not principal.is_citizen:
            raise Forbidden("residents apply from their own account", code="citizen_only")
        if not isinstance(data, dict):
            raise InvalidInput("a JSON object body is required", code="invalid_json")
        offer = self.offer(offer_id)
        if offer.status is not OfferStatus.OPEN:
            raise Conflict(f"offer {offer_id} is withdrawn", code="offer_closed")
        plates = data.get("plates")
        mine = self._plates_of(principal)
        if not isinstance(plates, list) or not all(isinstance(p, str) for p in plates):
            raise InvalidInput("plates is a list of plates", code="invalid_application")
        if not set(plates) <= mine:
            raise Forbidden("apply for plates verified on your account", code="plate_not_yours")
        now = self._clock.now()
        app = parse(Application, {
            "application_id": f"sa_{secrets.token_hex(8)}", "offer_id": offer_id, "applicant": principal.subject,
            "plates": plates, "months": data.get("months"), "district_code": offer.district_code,
            "operator_id": offer.operator_id, "created_at": now,
            "history": [{"at": now, "actor": principal.subject, "action": "applied"}],
        }, code="invalid_application")  # fmt: skip
        self._store.save_application(app)
        return app

    def _visible(self, principal: Principal, app: Application) -> Offer:
        offer = self.offer(app.offer_id)
        if principal.is_citizen and app.applicant == principal.subject:
            return offer
        if principal.role is Role.AUDITOR or (not principal.is_citizen and _manages(principal, offer)):
            return offer
        raise NotFound(f"application {app.application_id} does not exist", code="unknown_application")

    def application(self, principal: Principal, application_id: str) -> Application:
        app = self._store.application(application_id)
        if app is None:
            raise NotFound(f"application {application_id} does not exist", code="unknown_application")
        self._visible(principal, app)
        self._sync_bills(app)
        return app

    def applications(self, principal: Principal, offer_id: str | None = None) -> list[Application]:
        if principal.is_citizen:
            return self._store.of_applicant(principal.subject)
        if offer_id is None:
            raise InvalidInput("name the offer: ?offer=", code="bad_query")
        offer = self.offer(offer_id)
        if not (principal.role is Role.AUDITOR or _manages(principal, offer)):
            raise Forbidden(f"{principal.subject} may not read applications of offer {offer_id}", code="district_forbidden")
        return self._store.of_offer(offer_id)

    def _versioned(self, app: Application, data: dict) -> None:
        if data.get("version") != app.version:
            raise Conflict(f"application {app.application_id} is at version {app.version}", code="version_conflict",
                           current_version=app.version)

    def decide(self, principal: Principal, application_id: str, data: object) -> Application:
        """Approve (a space of the offer becomes a right from now for the months applied for) or reject."""
        if not isinstance(data, dict):
            raise InvalidInput("a JSON object body is required", code="invalid_json")
        decision = data.get("decision")
        if decision not in ("approve", "reject"):
            raise InvalidInput("decision is approve or reject", code="invalid_decision")
        app = self.application(principal, application_id)
        offer = self.offer(app.offer_id)
        if principal.is_citizen or not _manages(principal, offer):
            raise Forbidden("the offer's operator or district decides", code="role_forbidden")
        self._versioned(app, data)
        if app.status is not ApplicationStatus.PENDING:
            raise Conflict(f"application {application_id} is {app.status.value}", code="not_pending")
        now, note = self._clock.now(), data.get("note") if isinstance(data.get("note"), str) else None
        if decision == "reject":
            new = app.bumped(principal.subject, "rejected", now, note, status=ApplicationStatus.REJECTED)
            if not self._store.save_application(new):
                raise Conflict("the application changed; read it again", code="version_conflict")
            return new
        if offer.status is not OfferStatus.OPEN or offer.granted >= offer.spaces:
            raise Conflict(f"offer {offer.offer_id} has no space left", code="no_spaces")
        term = self._term(app, 0, app.months, offer, now)
        new = app.bumped(principal.subject, "approved", now, note, status=ApplicationStatus.APPROVED, valid_from=now,
                         valid_until=term.ends, fee_fen=term.fee_fen, terms=[term])
        if not self._store.grant(offer.bumped(granted=offer.granted + 1), new):
            raise Conflict("the offer or the application changed; retry", code="contention")
        self._sync_bills(new)
        return new

    def renew(self, principal: Principal, application_id: str, data: object) -> Application:
        """The applicant extends an approved right by more months, at the offer's fee."""
        if not isinstance(data, dict):
            raise InvalidInput("a JSON object body is required", code="invalid_json")
        app = self.application(principal, application_id)
        if not (principal.is_citizen and app.applicant == principal.subject):
            raise Forbidden("the applicant renews", code="role_forbidden")
        months = data.get("months")
        if type(months) is not int or not 1 <= months <= 12:
            raise InvalidInput("months is 1..12", code="invalid_application")
        self._versioned(app, data)
        if app.status is not ApplicationStatus.APPROVED or app.valid_until is None:
            raise Conflict(f"application {application_id} is {app.status.value}", code="not_approved")
        offer, now = self.offer(app.offer_id), self._clock.now()
        if offer.status is not OfferStatus.OPEN:
            raise Conflict(f"offer {offer.offer_id} is withdrawn: the right runs to its term", code="offer_closed")
        term = self._term(app, len(app.terms), months, offer, max(app.valid_until, now))
        new = app.bumped(principal.subject, "renewed", now, f"{months} months", months=app.months + months,
                         valid_until=term.ends, fee_fen=app.fee_fen + term.fee_fen, terms=[*app.terms, term])
        if not self._store.save_application(new):
            raise Conflict("the application changed; read it again", code="version_conflict")
        self._sync_bills(new)
        return new

    def cancel(self, principal: Principal, application_id: str, data: object) -> Application:
        if not isinstance(data, dict):
            raise InvalidInput("a JSON object body is required", code="invalid_json")
        app = self.application(principal, application_id)
        offer = self.offer(app.offer_id)
        if not ((principal.is_citizen and app.applicant == principal.subject) or (not principal.is_citizen and _manages(principal, offer))):
            raise Forbidden("the applicant or the offer's managers cancel", code="role_forbidden")
        self._versioned(app, data)
        if app.status not in (ApplicationStatus.PENDING, ApplicationStatus.APPROVED):
            raise Conflict(f"application {application_id} is {app.status.value}", code="not_cancellable")
        now = self._clock.now()
        new = app.bumped(principal.subject, "cancelled", now, status=ApplicationStatus.CANCELLED,
                         valid_until=min(app.valid_until, now) if app.valid_until else None)
        if app.status is ApplicationStatus.APPROVED:
            ok = self._store.release(offer.bumped(granted=max(0, offer.granted - 1)), new)
        else:
            ok = self._store.save_application(new)
        if not ok:
            raise Conflict("the application or the offer changed; retry", code="contention")
        self._sync_bills(new)
        return new

    # The fee: one bill per term, paid through the pay code
    def _term(self, app: Application, number: int, months: int, offer: Offer, starts: datetime) -> Term:
        fee = offer.monthly_fee_fen * months
        return Term(number=number, months=months, fee_fen=fee, starts=starts, ends=starts + MONTH * months,
                    bill_id=bill_id_for(fee_session_id(app.application_id, number)) if fee else None,
                    paid_at=None if fee else self._clock.now())  # fmt: skip

    def _sync_bills(self, app: Application) -> None:
        """Bring the terms' bills in line with the application, idempotently: an unpaid term of an approved
        right has its bill (created once: the bill at version 1 and its charge, or nothing); the unpaid terms of
        a cancelled right have their bills voided."""
        if self._money is None:
            return
        for term in app.terms:
            if term.bill_id is None or term.paid_at is not None:
                continue
            bill = self._money.bill(term.bill_id)
            if app.status is ApplicationStatus.APPROVED and bill is None:
                self._bill_term(app, term)
            elif app.status is ApplicationStatus.CANCELLED and bill is not None:
                self._void(bill)

    def _bill_term(self, app: Application, term: Term) -> None:
        offer = self.offer(app.offer_id)
        operator_id = offer.operator_id or self._lot(offer.lot_ids[0]).operator_id
        plate, now = app.plates[0], self._clock.now()
        colour = PlateColour.GREEN if parse_plate(plate).new_energy else PlateColour.BLUE
        bill = Bill(
            bill_id=term.bill_id, session_id=fee_session_id(app.application_id, term.number), lot_id=offer.lot_ids[0],
            operator_id=operator_id, district_code=offer.district_code, plate=plate, plate_colour=colour,
            vehicle_class=VehicleClass.SMALL, entered_at=term.starts, exited_at=now, priced_until=term.ends,
            amount_fen=term.fee_fen, created_at=now,
            breakdown={"kind": "shared_parking_fee", "application_id": app.application_id, "offer_id": offer.offer_id,
                       "term": term.number, "months": term.months, "monthly_fee_fen": offer.monthly_fee_fen,
                       "from": term.starts.isoformat(), "until": term.ends.isoformat(), "amount_fen": term.fee_fen},
        )  # fmt: skip
        charge = Posting.charge(f"charge:{bill.bill_id}:0", plate, operator_id, term.fee_fen, now,
                                refs={"bill_id": bill.bill_id, "session_id": bill.session_id, "lot_id": bill.lot_id,
                                      "application_id": app.application_id})  # fmt: skip
        self._money.commit(Change(bills=[bill], postings=[charge]))  # False: created meanwhile, the same bill

    def _void(self, bill: Bill) -> None:
        """A cancelled right's unpaid fee: the operator did not earn it, the payer owes nothing."""
        for _ in range(ATTEMPTS):
            bill = self._money.bill(bill.bill_id)
            owed = bill.balance_fen
            if owed <= 0 or bill.paid_fen:
                return  # settled, or paid meanwhile: the cancellation leaves paid money alone
            posting = Posting.adjustment(f"void:{bill.bill_id}", bill.plate, bill.operator_id, owed, self._clock.now(),
                                         refs={"bill_id": bill.bill_id, "session_id": bill.session_id, "lot_id": bill.lot_id})
            if self._money.commit(Change(bills=[bill.bumped(adjusted_fen=bill.adjusted_fen + owed)], postings=[posting])):
                return
        raise Conflict(f"bill {bill.bill_id} keeps changing; retry", code="contention")

    def bill_settled(self, bill: Bill) -> None:
        """The reaction to a paid bill: a term's fee paid puts the right in force for it. Idempotent (a
        repeated callback, a retry after a crash find the term paid and change nothing)."""
        ref = parse_fee_session_id(bill.session_id)
        if ref is None:
            return
        application_id, number = ref
        for _ in range(ATTEMPTS):
            app = self._store.application(application_id)
            if app is None or number >= len(app.terms) or app.terms[number].paid_at is not None:
                return
            if app.status is not ApplicationStatus.APPROVED:
                return  # cancelled meanwhile: the money is not owed, the payment is refunded as an overpayment
            now = self._clock.now()
            terms = [t.model_copy(update={"paid_at": now}) if t.number == number else t for t in app.terms]
            paid = app.bumped("payment", "paid", now, f"term {number}: {bill.paid_fen} fen", terms=terms)
            if self._store.save_application(paid):
                return
        raise Conflict(f"application {application_id} keeps changing; the payment's follow-up retries", code="contention")

    # At the exit: the pricer hook
    def adjust(self, quote, lot: Lot, entered_at: datetime, until: datetime, plate: str,
               price: Callable[[datetime, datetime], int]):  # fmt: skip
        for right in self._store.rights_of_plate(plate):
            offer = self._store.offer(right.offer_id)
            if offer is None or lot.lot_id not in offer.lot_ids:
                continue
            spans = model.covered(offer, right, entered_at, until)
            line = model.adjustment(quote.amount_fen, spans, entered_at, until, price, right)
            if line is not None:
                return with_lines(quote, [line])
        return quote
