"""The composition root: builds the services once per process from their adapters and a clock.

``build(clock, stores)`` takes the adapters as parameters, in the spirit of cosmicpython's ``bootstrap``:
``dynamo_stores()`` (the default: DynamoDB, KMS, S3, SSM, Step Functions) or ``memory_stores()`` (the
in-memory adapters and a fake Workflows, for tests). Lambda entry points call ``services()``; the local stack
and tests call ``configure`` first to give their own clock (and stores). Only this module and
``shared/adapters/`` import adapters (``tests/test_architecture.py``).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass

from shared.archive.ports import ArchiveBucket, ArchiveClaims
from shared.archive.books import BooksArchive, RecordedMoney
from shared.archive.writer import ArchiveWriter
from shared.arrears.ports import ArrearsStore
from shared.arrears.service import ArrearsService, evidence_of
from shared.availability.ports import LotStatusStore
from shared.availability.open_counts import OpenCountService
from shared.audit.log import TransparencyLog
from shared.availability.service import AvailabilityService
from shared.bills.disputes import DisputeService
from shared.bills.ports import DisputeStore
from shared.bills.service import BillingService
from shared.citizens.ports import AccountStore, LoginCounters
from shared.citizens.login import PhoneLogin
from shared.citizens.service import CitizenService, SandboxVerifier
from shared.clock import Clock, SystemClock
from shared.coupons.ports import CouponStore
from shared.errors import NotFound
from shared.coupons.service import CouponService
from shared.ingest.authenticate import DeviceAuthenticator
from shared.ingest.ports import AckStore, NonceStore
from shared.ingest.service import EventIngest
from shared.ledger.ports import Ledger
from shared.paylater.ports import PayLaterTokens
from shared.paylater.service import PayLaterService
from shared.payments.applier import PaymentApplier
from shared.payments.gate import BillingGate
from shared.payments.ports import MoneyStore
from shared.payments.reconciliation import Reconciliation
from shared.payments.service import PaymentService
from shared.payments.together import CitizenPayments
from shared.protocol.events import LegacyPaymentEvent, PaymentReport
from shared.reactions import BILL_SETTLED, LEFT_ON_PAY_LATER, SETUP_CONFIRMED, Reactions
from shared.registry.model import Lot
from shared.registry.ports import DeviceStore, LotStore, OperatorStore, SecretVault
from shared.registry.service import RegistryService
from shared.sessions.ports import SessionStore
from shared.sessions.corrections import CorrectionService
from shared.sessions.service import SessionService
from shared.supervision.liveness import LivenessCheck
from shared.tariffs.registry import TariffRecords, TariffService
from shared.workflows import Workflows
from shared.hospital.ports import BookingStore
from shared.hospital.service import HospitalService
from shared.hotline.ports import TicketStore
from shared.hotline.service import HotlineService
from shared.charging.ports import ChargingStore
from shared.charging.service import ChargingService
from shared.sharing.ports import SharingStore
from shared.sharing.service import SharingService


@dataclass
class Stores:
    """Every adapter the services need, by port. New stores: a field at the end, built by both factories."""

    operators: OperatorStore
    lots: LotStore
    devices: DeviceStore
    vault: SecretVault
    acks: AckStore  # also the ArchiveClaims of the archive
    nonces: NonceStore
    status: LotStatusStore
    sessions: SessionStore
    tariffs: TariffRecords
    ledger: Ledger
    money: MoneyStore
    coupons: CouponStore
    accounts: AccountStore
    arrears: ArrearsStore
    disputes: DisputeStore
    pay_later_tokens: PayLaterTokens
    archive: ArchiveBucket
    workflows: Workflows
    token_key: Callable[[], str]
    providers: Callable[[Clock], tuple[dict, object]]  # (providers by name, Routing)
    # Service scenarios (issue 13)
    bookings: BookingStore
    tickets: TicketStore
    charging: ChargingStore
    sharing: SharingStore
    # The city's governance loop (issue 11); None: that part is not wired on these stores
    ledger_reader: object | None = None
    statements: object | None = None
    anomalies: object | None = None
    push_outbox: object | None = None
    push_transport: object | None = None
    # The archive's Merkle log (issue 12): (heads, tiles, signer); None: no log on these stores
    audit_log_parts: tuple | None = None
    # Supervision's fraud signals and daily compliance (issue 11); None: not wired on these stores
    signals: object | None = None
    # The service window's sign-in limits (issue 14); None: built in memory by build()
    login_counters: LoginCounters | None = None
    # Issue 10: a device request's reads in one batch (shared.ingest.ports.ReadAhead); None: none
    read_ahead: object | None = None
    # Issue 12: the ledger's stream feeds the books writer (functions/books_writer); False: money records are
    # archived right after each commit (memory stores have no stream)
    ledger_streams_to_books: bool = False
    # Issue 14: the sign-in texts (shared.citizens.login.TextMessages); None: the sandbox's SMS inbox
    login_texts: object | None = None
    # Issue 14: the Cognito user pool whose RS256 ID tokens the API accepts (shared.tokens.TokenPool); None: none
    token_pool: object | None = None
    # Issue 10: the acks table's stream feeds the archive writer, which records the devices' last-seen; False:
    # every device request writes its own (memory stores have no stream)
    acks_stream_records_seen: bool = False
    # Issue 10: the lots' open counts from the acks stream (shared.availability.ports.OpenCountStore); None: none
    open_counts: object | None = None


def dynamo_stores() -> Stores:
    """The deployed adapters: DynamoDB tables, KMS, S3, SSM and Step Functions (moto on the local stack)."""
    from shared.adapters import aws
    from shared.adapters.archive_bucket import ArchiveBucket as S3Archive
    from shared.adapters.device_secrets import DeviceSecretVault
    from shared.adapters.dynamo import arrears, citizens, coupons, disputes, events, ledger, lot_status, money
    from shared.adapters.dynamo import pay_later, registry, sessions, tariffs
    from shared.adapters.parameters import admin_token_key
    from shared.adapters.payments.providers import configured_providers
    from shared.adapters.workflows import Workflows as StepFunctions
    from shared.adapters.dynamo.charging import DynamoChargingStore
    from shared.adapters.dynamo.hospital import DynamoBookingStore
    from shared.adapters.dynamo.hotline import DynamoTicketStore
    from shared.adapters.dynamo.sharing import DynamoSharingStore
    from shared.adapters.city_push import PushTable
    from shared.adapters.http_push import HttpTransport
    from shared.adapters.dynamo.settlement import LedgerReader, StatementTable
    from shared.adapters.dynamo.supervision import AnomalyTable
    from shared.adapters.dynamo.audit_log import DynamoLogHeads
    from shared.adapters.log_tiles import BucketTiles, LazySigner
    from shared.adapters.dynamo.signals import SignalTable
    from shared.adapters.dynamo.login_counters import LoginCounters as DynamoLoginCounters
    from shared.adapters.dynamo.read_ahead import ReadAhead
    from shared.adapters.dynamo.open_counts import OpenCountStore as DynamoOpenCounts

    aws.reset()  # fresh clients: the local stack and tests start a new embedded AWS
    ledger_store = ledger.LedgerStore()
    money_store = money.MoneyStore(ledger_store)
    return Stores(
        operators=registry.OperatorStore(), lots=registry.LotStore(), devices=registry.DeviceStore(),
        vault=DeviceSecretVault(), acks=events.AckStore(), nonces=events.NonceStore(),
        status=lot_status.LotStatusStore(), sessions=sessions.SessionStore(money_store), tariffs=tariffs.TariffStore(),
        ledger=ledger_store, money=money_store, coupons=coupons.CouponStore(ledger_store),
        accounts=citizens.AccountStore(), arrears=arrears.ArrearsStore(), disputes=disputes.DisputeStore(),
        pay_later_tokens=pay_later.PayLaterTokens(), archive=S3Archive(), workflows=StepFunctions(),
        token_key=admin_token_key, providers=configured_providers,
        bookings=DynamoBookingStore(), tickets=DynamoTicketStore(), charging=DynamoChargingStore(),
        sharing=DynamoSharingStore(), ledger_reader=LedgerReader(ledger_store), statements=StatementTable(),
        anomalies=AnomalyTable(), push_outbox=PushTable(), push_transport=HttpTransport(),
        audit_log_parts=(DynamoLogHeads(), BucketTiles(), LazySigner()), signals=SignalTable(),
        login_counters=DynamoLoginCounters(),
        read_ahead=ReadAhead(), ledger_streams_to_books=True,
        login_texts=_configured_texts(),
        token_pool=_configured_pool(), acks_stream_records_seen=True,
        open_counts=DynamoOpenCounts(),
    )  # fmt: skip


def _configured_pool() -> object | None:
    from shared.adapters.cognito import configured_pool

    return configured_pool()


def _configured_texts() -> object | None:
    """SNS where the stage says so (``TONGTING_SMS=sns``); otherwise None, the sandbox's SMS inbox."""
    from shared.adapters import sms

    return sms.SnsTextMessages() if sms.configured() == "sns" else None


MEMORY_TOKEN_KEY = "memory-token-signing-key-not-a-secret"


def memory_stores() -> Stores:
    """The in-memory adapters (``shared/adapters/memory``) and a fake Workflows that records starts and
    wakes: the whole domain runs without AWS. Payments go through the sandbox providers (in memory too)."""
    from shared.adapters.memory import arrears, citizens, coupons, disputes, events, ledger, lot_status, money
    from shared.adapters.memory import archive, pay_later, registry, sessions, vault, workflows
    from shared.adapters.payments.providers import configured_providers
    from shared.adapters.memory.charging import MemoryChargingStore
    from shared.adapters.memory.hospital import MemoryBookingStore
    from shared.adapters.memory.hotline import MemoryTicketStore
    from shared.adapters.memory.sharing import MemorySharingStore
    from shared.adapters.memory.city_push import MemoryOutbox
    from shared.adapters.memory.settlement import MemoryStatements
    from shared.adapters.memory.supervision import MemoryAnomalies
    from shared.adapters.memory.governance import LedgerReader, RecordingTransport
    from shared.adapters.memory.signals import MemorySignals
    from shared.adapters.memory.login_counters import LoginCounters as MemoryLoginCounters
    from shared.adapters.memory.read_ahead import ReadAhead as MemoryReadAhead
    from shared.adapters.memory.open_counts import OpenCountStore as MemoryOpenCounts

    acks, ledger_store, nonces = events.AckStore(), ledger.Ledger(), events.NonceStore()
    status, money_store = lot_status.LotStatusStore(acks), money.MoneyStore(ledger_store)
    accounts = citizens.AccountStore()
    return Stores(
        operators=registry.OperatorStore(), lots=registry.LotStore(), devices=registry.DeviceStore(),
        vault=vault.SecretVault(), acks=acks, nonces=nonces, status=status,
        sessions=sessions.SessionStore(acks, status, money_store, accounts), tariffs=registry.TariffStore(), ledger=ledger_store,
        money=money_store, coupons=coupons.CouponStore(money_store), accounts=accounts,
        arrears=arrears.ArrearsStore(), disputes=disputes.DisputeStore(), pay_later_tokens=pay_later.PayLaterTokens(),
        archive=archive.ArchiveBucket(), workflows=workflows.Workflows(), token_key=lambda: MEMORY_TOKEN_KEY,
        providers=configured_providers, bookings=MemoryBookingStore(), tickets=MemoryTicketStore(),
        charging=MemoryChargingStore(), sharing=MemorySharingStore(), statements=MemoryStatements(),
        anomalies=MemoryAnomalies(), push_outbox=MemoryOutbox(), signals=MemorySignals(),
        ledger_reader=LedgerReader(ledger_store), push_transport=RecordingTransport(),
        login_counters=MemoryLoginCounters(),
        read_ahead=MemoryReadAhead(),
        open_counts=MemoryOpenCounts(status),
    )  # fmt: skip

from shared.citypush.service import CityPushService
from shared.compliance.service import ComplianceService
from shared.settlement.config import fee_rates
from shared.settlement.service import PROVIDERS, PlatformFeeService, SettlementService
from shared.settlement.returns import DistrictReturns, return_rates
from shared.supervision.scan import SignalService

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
    ledger: Ledger
    providers: dict
    citizens: CitizenService
    arrears: ArrearsService
    pay_later: PayLaterService
    plate_verifier: SandboxVerifier
    disputes: DisputeService
    coupons: CouponService
    reconciliation: Reconciliation
    stores: Stores  # the adapters, for tests and the local stack
    # Service scenarios (issue 13)
    hospital: HospitalService | None = None
    hotline: HotlineService | None = None
    charging: ChargingService | None = None
    sharing: SharingService | None = None
    # The city's governance loop (issue 11)
    settlement: SettlementService | None = None
    platform_fee: PlatformFeeService | None = None
    city_push: CityPushService | None = None
    compliance: ComplianceService | None = None
    audit_log: TransparencyLog | None = None  # issue 12: the archive's Merkle log (None without a signing key)
    phone_login: PhoneLogin | None = None  # issue 14: the service window's sign-in
    signals: SignalService | None = None  # issue 11: fraud and data-hiding signals, compliance history
    district_returns: DistrictReturns | None = None  # issue 11: the districts' share of the platform's returns (S15)
    pay_together: CitizenPayments | None = None  # issue 14: a citizen's several bills in one payment
    books: BooksArchive | None = None  # issue 12: payments, refunds, adjustments, write-offs archived and logged
    open_counts: OpenCountService | None = None  # issue 10: the lots' open counts from the acks stream


DEFAULT_PAY_BASE_URL = "https://pay.tongting.example/v1/pay"


def build(clock: Clock, stores: Stores | None = None) -> Services:
    st = stores or dynamo_stores()
    lots, devices, acks, status, operators = st.lots, st.devices, st.acks, st.status, st.operators
    vault = st.vault
    review_after = int(os.environ.get("TONGTING_REVIEW_WINDOW_S", DEFAULT_REVIEW_WINDOW_S))
    tariffs = TariffService(st.tariffs, clock)
    reactions = Reactions()  # shared/reactions.py: bound below, once every service exists

    price_adjusters: list = []  # issue 13: EV charging (free/discounted parking while charging, idle fees)

    def price(lot, entered_at, until, session):
        quote = tariffs.price(lot, entered_at, until, session.vehicle_class, session.plate_colour)
        for adjust in price_adjusters if quote is not None and lot.scenario_policies else ():  # issue 13 guard
            quote = adjust(quote, lot, entered_at, until, session.plate, lambda a, b: tariffs.price(
                lot, a, b, session.vehicle_class, session.plate_colour).amount_fen)
        return quote

    ledger = st.ledger
    audit_log = TransparencyLog(*st.audit_log_parts[:2], st.archive, st.audit_log_parts[2], clock) if st.audit_log_parts else None
    books = BooksArchive(st.archive, audit_log)
    # issue 12: every committed money record archived and logged; from the ledger's stream where the stores
    # have one (the books writer: off the paying request's path), else right after the commit
    money = st.money if st.ledger_streams_to_books else RecordedMoney(st.money, books)
    providers, routing = st.providers(clock)
    billing = BillingService(money, price, clock)
    applier = PaymentApplier(money, providers, clock, on_settled=[reactions.listener(BILL_SETTLED)])
    if not st.ledger_streams_to_books:  # issue 12: a repeated callback re-archives its payment (idempotent)
        applier.rerecord = books.record_after_commit
    payments = PaymentService(
        money, billing, applier, providers, routing, lambda op: operators.require(op).payout_account_ref, clock,
        on_setup=[reactions.listener(SETUP_CONFIRMED)],
    )
    pay_base = os.environ.get("TONGTING_PAY_BASE_URL", DEFAULT_PAY_BASE_URL)
    workflows = st.workflows
    session_store = st.sessions
    verifier = SandboxVerifier()  # the traffic-police registration lookup is not connected yet
    setup_name = "stripe" if "stripe" in providers else "sandbox"
    citizens = CitizenService(st.accounts, verifier, lambda: (setup_name, providers[setup_name]), clock)
    arrears = ArrearsService(st.arrears, money, citizens, workflows, lambda lot_id: lots.require(lot_id).name, clock)
    pay_later = PayLaterService(money, payments, citizens, arrears, workflows, session_store, clock, st.pay_later_tokens,
                                 lot_name=lambda lot_id: lots.require(lot_id).name)
    gate = BillingGate(
        money, billing, payments, price, pay_base, pay_later=pay_later, arrears=arrears,
        on_pay_later_exit=[reactions.listener(LEFT_ON_PAY_LATER)],
    )

    def session_evidence(session_id: str) -> dict:
        session = session_store.get(session_id)
        return evidence_of(session) if session else {}

    disputes = DisputeService(
        st.disputes, money, applier, lambda principal, bill: citizens.get(principal).owns_bill(bill.plate, bill.created_at), session_evidence,
        arrears.set_paused, clock,
    )
    sessions = SessionService(session_store, workflows, gate, review_after)

    def legacy_payments(event: LegacyPaymentEvent, lot: Lot) -> PaymentReport:
        parked = session_store.parked(lot.lot_id, event.plate)
        report = payments.legacy_report(lot, event.plate, event.legacy_ref, event.amount_fen, event.occurred_at, parked)
        return PaymentReport(**report)

    built = Services(
        clock=clock,
        registry=RegistryService(operators, lots, devices, vault, clock),
        ingest=EventIngest(
            DeviceAuthenticator(devices, vault, st.nonces, clock), lots, acks, sessions, status, clock, legacy_payments,
            read_ahead=st.read_ahead, seen_from_stream=st.acks_stream_records_seen,
        ),
        sessions=sessions,
        availability=AvailabilityService(lots, status, clock),
        archive=ArchiveWriter(_claims(acks), st.archive, status),
        liveness=LivenessCheck(lots, status, clock),
        token_key=st.token_key,
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
        coupons=CouponService(st.coupons, money, lots, clock),
        reconciliation=Reconciliation(money, applier, providers, clock),
        stores=st,
        audit_log=audit_log,
        books=books,
        phone_login=phone_login(clock, st, texts=verifier),
        pay_together=CitizenPayments(money.bill, lambda principal, bill: citizens.get(principal).owns_bill(bill.plate, bill.created_at), payments),
    )
    _scenarios(built, st, money, lots, citizens, clock, price_adjusters)
    built.ingest.corrections = CorrectionService(session_store, acks, money, price, applier, clock)  # issue 11
    _governance(built, st, money, operators, lots, status, providers, clock)
    built.open_counts = OpenCountService(st.open_counts, clock) if st.open_counts is not None else None  # issue 10
    reactions.bind(built)
    return built


def phone_login(clock: Clock, stores: Stores | None = None, texts=None) -> PhoneLogin:
    """The sign-in, built here for ``build`` and alone for Cognito's custom-auth triggers
    (``functions/citizen_sign_in``): the same limits and texts, without building (or granting) the rest of
    the platform. ``texts``: where codes go without the stores' own sender (``build``: the sandbox inbox)."""
    st = stores or dynamo_stores()
    return PhoneLogin(st.token_key, st.login_texts or texts or SandboxVerifier(), st.login_counters or _memory_counters(), clock)


def _memory_counters() -> LoginCounters:
    """Stores built by hand (a test's own Stores) without sign-in counters still get limits, per process."""
    from shared.adapters.memory.login_counters import LoginCounters as MemoryLoginCounters

    return MemoryLoginCounters()


def _claims(acks: AckStore) -> ArchiveClaims:
    return acks  # type: ignore[return-value]  # every AckStore adapter also keeps the archive claims


def _scenarios(built: Services, st: Stores, money: MoneyStore, lots: LotStore, citizens: CitizenService, clock: Clock,
               price_adjusters: list) -> None:
    """Issue 13: hospital appointment parking, hooked into entries (the booking in the ack) and
    availability (held spaces are not free); the 24-hour hotline; EV charging (a protocol message and
    price lines) and shared-parking rights (price lines)."""

    def plates_of(principal) -> set[str]:
        try:
            return set(citizens.get(principal).plates)
        except NotFound:
            return set()

    flag_lot = built.registry.flag_scenarios  # Lot.scenario_policies: ordinary lots skip the scenario stores
    built.hospital = HospitalService(st.bookings, lots.require, plates_of, clock, flag_lot=flag_lot)
    built.sessions.arrivals = built.hospital
    built.availability.reserved = built.hospital.reserved
    built.hotline = HotlineService(st.tickets, lots.require, clock)
    def late_charging(plate, lot, start, end) -> None:  # a charging report after the stay was billed
        for bill in built.billing.lower_stays(plate, lot, start, end, kinds=("charging",)):
            built.payments.price_lowered(bill)

    built.charging = ChargingService(st.charging, lots.require, clock, late=late_charging, flag_lot=flag_lot)
    built.ingest.charging = built.charging.report
    built.sharing = SharingService(st.sharing, lots.require, plates_of, clock, money=money, flag_lot=flag_lot)
    # The booking's terms or a shared-parking right first (each replaces the tariff), then charging.
    price_adjusters += [built.hospital.adjust, built.sharing.adjust, built.charging.adjust]


def _governance(services: Services, st: Stores, money, operators, lots, status, providers, clock: Clock) -> None:
    """Settlement, the platform service fee and the city push (issue 11), wired from the stores above."""

    class _Owners:
        def operators(self):
            return [(o.operator_id, o.district_code, o.ownership.value) for o in operators.list()]

        def lot(self, lot_id):
            found = lots.get(lot_id)
            return (found.operator_id, found.district_code) if found else None

        def bill_lot(self, bill_id):
            bill = money.bill(bill_id)
            return bill.lot_id if bill else None

    reader, statements, owners = st.ledger_reader, st.statements, _Owners()
    anomalies = st.anomalies
    services.liveness = LivenessCheck(lots, status, clock, anomalies=anomalies)  # with comms anomalies (S16)
    if st.signals is not None and anomalies is not None:  # fraud and data-hiding signals (S16)
        from shared.bills.model import bill_id_for

        services.signals = SignalService(st.signals, lots, st.archive, st.sessions, anomalies,
                                         lambda session_id: money.bill(bill_id_for(session_id)), clock)

    def compliance_facts():
        from shared.compliance.model import LotFacts

        ownership = {o.operator_id: o.ownership.value for o in operators.list()}
        facts = []
        for lot in lots.list():
            ls = status.get(lot.lot_id)
            facts.append(LotFacts(
                lot_id=lot.lot_id, district_code=lot.district_code, ownership=ownership.get(lot.operator_id, "social"),
                kind=lot.kind.value, devices_seen=len(ls.device_last_seen_ms or {}), online=ls.online,
                comms_lost_open=anomalies.current(lot.lot_id) is not None,
                unified_pay_code="unified" in [p.value for p in lot.pay_codes], tariff_registered=lot.tariff_ref is not None,
                reports_absolute_counts=ls.reported_total is not None,
            ))
        return facts

    hotline_stats = services.hotline.stats if services.hotline is not None else None  # issue 13: S8 figures
    services.compliance = ComplianceService(compliance_facts, clock, hotline=hotline_stats)
    if reader is None or st.push_transport is None:
        return  # stores without a ledger reader or a push transport: no settlement, fee or city push
    from shared.adapters.http_push import push_target  # the configured endpoint (an environment setting)

    services.settlement = SettlementService(reader, owners, statements, clock, providers=[*providers, *PROVIDERS])
    services.settlement.findings = money.findings  # statements compared with the providers' reconciliation
    services.platform_fee = PlatformFeeService(services.settlement, statements, reader, owners, fee_rates(), clock)
    services.district_returns = DistrictReturns(statements, reader, return_rates(), clock)  # S15

    def occupancy(lot_ids):
        return {lot_id: s for lot_id, s in status.many(lot_ids).items()}


    services.city_push = CityPushService(st.push_outbox, st.push_transport, push_target(), lots, occupancy, statements, clock)


_services: Services | None = None


def configure(clock: Clock | None = None, stores: Stores | None = None) -> Services:
    global _services
    _services = build(clock or SystemClock(), stores)
    return _services


def services() -> Services:
    return _services or configure()
