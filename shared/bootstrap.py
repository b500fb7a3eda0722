"""The composition root: builds the services once per process with their adapters and a clock.

Lambda entry points call ``services()``; the local stack and tests call ``configure`` first to give
their own clock (and get fresh clients pointed at the embedded AWS).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass

from shared.adapters import aws
from shared.adapters.archive_bucket import ArchiveBucket
from shared.adapters.device_secrets import DeviceSecretVault
from shared.adapters.dynamo.arrears import ArrearsStore
from shared.adapters.dynamo.citizens import AccountStore
from shared.adapters.dynamo.coupons import CouponStore
from shared.adapters.dynamo.disputes import DisputeStore
from shared.adapters.dynamo.events import AckStore, NonceStore
from shared.adapters.dynamo.ledger import LedgerStore
from shared.adapters.dynamo.lot_status import LotStatusStore
from shared.adapters.dynamo.money import MoneyStore
from shared.adapters.dynamo.registry import DeviceStore, LotStore, OperatorStore
from shared.adapters.dynamo.sessions import SessionStore
from shared.adapters.dynamo.tariffs import TariffStore
from shared.adapters.parameters import admin_token_key
from shared.adapters.payments.providers import configured_providers
from shared.adapters.workflows import Workflows
from shared.archive.writer import ArchiveWriter
from shared.arrears.service import ArrearsService, evidence_of
from shared.availability.service import AvailabilityService
from shared.bills.disputes import DisputeService
from shared.bills.service import BillingService
from shared.citizens.login import PhoneLogin
from shared.citizens.service import CitizenService, SandboxVerifier
from shared.clock import Clock, SystemClock
from shared.coupons.service import CouponService
from shared.ingest.authenticate import DeviceAuthenticator
from shared.ingest.service import EventIngest
from shared.paylater.service import PayLaterService
from shared.payments.applier import PaymentApplier
from shared.payments.gate import BillingGate
from shared.payments.service import PaymentService
from shared.protocol.events import LegacyPaymentEvent, PaymentReport
from shared.registry.model import Lot
from shared.registry.service import RegistryService
from shared.sessions.service import SessionService
from shared.supervision.liveness import LivenessCheck
from shared.tariffs.registry import TariffService

DEFAULT_REVIEW_WINDOW_S = 900


@dataclass
class Services:
    clock: Clock
    registry: RegistryService
    ingest: EventIngest
    sessions: SessionService
    availability: AvailabilityService
    archive: ArchiveWriter
    liveness: LivenessCheck
    token_key: Callable[[], str]
    tariffs: TariffService
    billing: BillingService
    payments: PaymentService
    gate: BillingGate
    ledger: LedgerStore
    providers: dict
    citizens: CitizenService
    arrears: ArrearsService
    pay_later: PayLaterService
    plate_verifier: SandboxVerifier
    disputes: DisputeService
    coupons: CouponService
    phone_login: PhoneLogin | None = None  # issue 14: the service window's sign-in


DEFAULT_PAY_BASE_URL = "https://pay.tongting.example/v1/pay"


def build(clock: Clock) -> Services:
    lots, devices, acks, status, operators = LotStore(), DeviceStore(), AckStore(), LotStatusStore(), OperatorStore()
    vault = DeviceSecretVault()
    review_after = int(os.environ.get("TONGTING_REVIEW_WINDOW_S", DEFAULT_REVIEW_WINDOW_S))
    tariffs = TariffService(TariffStore(), clock)

    def price(lot, entered_at, until, session):
        return tariffs.price(lot, entered_at, until, session.vehicle_class, session.plate_colour)

    ledger = LedgerStore()
    money = MoneyStore(ledger)
    providers, routing = configured_providers(clock)
    billing = BillingService(money, price, clock)
    applier = PaymentApplier(money, providers, clock)
    payments = PaymentService(
        money, billing, applier, providers, routing, lambda op: operators.require(op).payout_account_ref, clock
    )
    pay_base = os.environ.get("TONGTING_PAY_BASE_URL", DEFAULT_PAY_BASE_URL)
    workflows = Workflows()
    session_store = SessionStore()
    verifier = SandboxVerifier()  # the traffic-police registration lookup is not connected yet
    setup_name = "stripe" if "stripe" in providers else "sandbox"
    citizens = CitizenService(AccountStore(), verifier, lambda: (setup_name, providers[setup_name]), clock)
    arrears = ArrearsService(ArrearsStore(), money, citizens, workflows, lambda lot_id: lots.require(lot_id).name, clock)
    pay_later = PayLaterService(money, payments, citizens, arrears, workflows, session_store, clock,
                                 lot_name=lambda lot_id: lots.require(lot_id).name)
    applier.on_settled += [pay_later.bill_settled, arrears.bill_settled]
    payments.on_setup.append(citizens.setup_confirmed)
    gate = BillingGate(money, billing, payments, price, pay_base, pay_later=pay_later, arrears=arrears)

    def session_evidence(session_id: str) -> dict:
        session = session_store.get(session_id)
        return evidence_of(session) if session else {}

    disputes = DisputeService(
        DisputeStore(), money, applier, lambda principal, bill: citizens.get(principal).owns_bill(bill.plate, bill.created_at), session_evidence,
        arrears.set_paused, clock,
    )
    sessions = SessionService(session_store, workflows, gate, review_after)

    def legacy_payments(event: LegacyPaymentEvent, lot: Lot) -> PaymentReport:
        parked = session_store.parked(lot.lot_id, event.plate)
        report = payments.legacy_report(lot, event.plate, event.legacy_ref, event.amount_fen, event.occurred_at, parked)
        return PaymentReport(**report)

    return Services(
        clock=clock,
        registry=RegistryService(operators, lots, devices, vault),
        ingest=EventIngest(
            DeviceAuthenticator(devices, vault, NonceStore(), clock), lots, acks, sessions, status, clock, legacy_payments
        ),
        sessions=sessions,
        availability=AvailabilityService(lots, status, clock),
        archive=ArchiveWriter(acks, ArchiveBucket()),
        liveness=LivenessCheck(lots, status, clock),
        token_key=admin_token_key,
        tariffs=tariffs,
        billing=billing,
        payments=payments,
        gate=gate,
        ledger=ledger,
        providers=providers,
        citizens=citizens,
        arrears=arrears,
        pay_later=pay_later,
        plate_verifier=verifier,
        disputes=disputes,
        coupons=CouponService(CouponStore(ledger), money, lots, clock),
        phone_login=PhoneLogin(admin_token_key, verifier, clock),
    )


_services: Services | None = None


def configure(clock: Clock | None = None) -> Services:
    global _services
    aws.reset()
    _services = build(clock or SystemClock())
    return _services


def services() -> Services:
    return _services or configure()
