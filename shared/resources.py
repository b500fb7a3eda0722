"""The one definition of every AWS resource name, key schema, function and schedule.

Both the embedded local stack (``infra/local``) and the CDK app (``infra/cdk``) read this module, so a
name or a schedule changes in exactly one place. It is plain data: no boto3, no CDK imports.

Names carry a stage prefix (``tongting-<stage>-...``); the stage comes from ``TONGTING_STAGE``
(``local`` by default), so the same code addresses the right resources in every account.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Literal

APP = "tongting"


def stage() -> str:
    return os.environ.get("TONGTING_STAGE", "local")


def resource_name(logical: str, stage_name: str | None = None) -> str:
    """The physical name of a logical resource in a stage, e.g. ``tongting-dev-sessions``."""
    return f"{APP}-{stage_name or stage()}-{logical}"


KeyType = Literal["S", "N"]


@dataclass(frozen=True)
class Index:
    name: str
    hash_key: str
    range_key: str | None = None
    hash_type: KeyType = "S"
    range_type: KeyType = "S"
    # ALL: queries read the records from the index; KEYS_ONLY: they read each record by its key, and an
    # update that keeps the index's keys writes nothing to it (issue 10: write units)
    projection: Literal["ALL", "KEYS_ONLY"] = "ALL"


@dataclass(frozen=True)
class Table:
    """A DynamoDB table: keys, global secondary indexes, TTL and stream."""

    logical: str
    hash_key: str
    range_key: str | None = None
    hash_type: KeyType = "S"
    range_type: KeyType = "S"
    indexes: tuple[Index, ...] = ()
    ttl_attribute: str | None = None
    stream: bool = False
    purpose: str = ""

    @property
    def name(self) -> str:
        return resource_name(self.logical)


# Registry: one table per aggregate keeps IAM least-privilege per function readable.
OPERATORS = Table(
    "operators",
    "operator_id",
    stream=True,  # issue 12: every version archived (registry-writer-operators)
    purpose="Lot operators (legal entities, payout account).",
)
LOTS = Table(
    "lots",
    "lot_id",
    indexes=(Index("by_district", "district_code", "lot_id"), Index("by_operator", "operator_id", "lot_id")),
    stream=True,  # issue 12: every version archived (registry-writer-lots)
    purpose="Registered (备案) lots: enclosed lots and on-street berth zones.",
)
DEVICES = Table(
    "devices",
    "device_id",
    indexes=(Index("by_lot", "lot_id", "device_id"),),
    purpose="Devices and gateways with their KMS-encrypted signing secrets.",
)
# Sessions: pk session_id; "open pointer" items live in the same table under pk OPEN#lot#subject so an
# open session is unique per plate (or berth) by a conditional write.
SESSIONS = Table(
    "sessions",
    "pk",
    indexes=(
        Index("open_by_lot", "open_lot_id", "pk"),
        Index("unmatched_by_lot", "unmatched_lot_id", "pk"),
        # parked() reads each session by id; sparse: berth sessions only (a gate session has its plate's pointer)
        Index("by_plate", "plate", "entered_at", projection="KEYS_ONLY"),
    ),
    purpose="Parking sessions plus uniqueness pointers for open sessions.",
)
EVENT_ACKS = Table(
    "event-acks",
    "pk",
    indexes=(Index("by_archive_object", "archive_key", "pk"),),
    stream=True,
    purpose="One acknowledgement per accepted event (idempotency record and archive outbox).",
)
NONCES = Table("nonces", "pk", ttl_attribute="expires_at", purpose="Seen request nonces, kept past the window.")
LOT_STATUS = Table(
    "lot-status",
    "lot_id",
    "item",
    purpose="Live availability per lot and last-seen time per device.",
)

# Money. Bills and payments are separate aggregates: a payment is applied to a bill exactly once by one
# transaction that also writes the ledger posting.
TARIFFS = Table("tariffs", "tariff_id", stream=True,  # issue 12: every version archived (registry-writer-tariffs)
               purpose="Registered tariffs (收费标准) with their versions.")
BILLS = Table(
    "bills",
    "pk",
    indexes=(
        # KEYS_ONLY (issue 10): a paid bill's update keeps its keys, so it writes nothing here (one write unit
        # fewer per paid bill); its readers read the bills by key (eventually consistent, like the index)
        Index("by_plate", "plate", "created_at", projection="KEYS_ONLY"),
        Index("by_lane", "lane_key", "exited_at", projection="KEYS_ONLY"),  # bill_at_lane reads the bill by id
        # KEYS_ONLY (issue 10): its reader (a district's disputes, DISPUTES#<district>: a staff view) reads the
        # items by key. Sparse: bills do not carry the key (nothing lists a lot's bills; issue 10: one index
        # write fewer per priced exit), only disputes do
        Index("by_lot", "lot_id", "created_at", projection="KEYS_ONLY"),
        # issue 10: sparse; pay-later bills unpaid whose billing workflow has not started, by the end of their
        # grace period (one partition: two index writes per pay-later session, far below its 1,000 a second)
        Index("by_grace_end", "grace_queue", "grace_due", projection="KEYS_ONLY"),
    ),
    purpose="One bill per chargeable session (amount, discounts, paid, refunded) and its disputes.",
)
PAYMENTS = Table(
    "payments",
    "pk",
    # KEYS_ONLY (issue 10): both readers read the payments by key after the query, so an update of a payment
    # that keeps its keys writes nothing to the indexes
    indexes=(Index("by_provider_ref", "provider_ref", projection="KEYS_ONLY"),
             Index("by_provider_day", "provider_day", "created_at", projection="KEYS_ONLY")),
    purpose="Payments, refunds, provider callback receipts and reconciliation findings.",
)
COUPONS = Table("coupons", "pk", purpose="Operator-funded coupons and their redemptions (S17).")
LEDGER = Table(
    "ledger",
    "pk",
    "sk",
    indexes=(
        Index("by_account", "account", "sk"),  # line items: postings stored before issue 10, entries 3..16
        # issue 10: a posting is one item carrying its first two entries (every domain posting has two) in
        # these attributes, so its lines cost no items of their own; each slot is indexed for lines(account)
        Index("by_account_a", "account_a", "line_at"),
        Index("by_account_b", "account_b", "line_at"),
    ),
    stream=True,  # issue 12: new postings feed the books writer (money records into the archive's log)
    purpose="The double-entry ledger: postings with their lines (integer fen); balances are sums of the lines.",
)

# Leave first, pay later (S6) and arrears (S7, S11).
CITIZENS = Table(
    "citizens",
    "pk",
    ttl_attribute="expires_at",  # issue 14: the sign-in limits' counters (COUNTER#...) expire
    # Issue 10: official notices are items of their own (NOTICE#account#id), not a list in the account item
    indexes=(Index("notices_by_account", "account_id", "notice_at"),),
    purpose="Service-window accounts, verified plates (PLATE#plate is unique), saved payment methods, consent, "
            "official notices, sign-in counters.",
)
ARREARS = Table(
    "arrears",
    "pk",
    indexes=(
        Index("by_district", "district_code", "opened_at"),
        Index("by_operator", "operator_id", "opened_at"),
        Index("by_plate", "plate", "opened_at", projection="KEYS_ONLY"),  # of_plate reads each case by id
    ),
    purpose="Arrears cases with their evidence, ladder steps, contacts and recoveries.",
)

# Service scenarios (issue 13, S8, S12): hospital appointment parking and the 24-hour hotline.
HOSPITAL_BOOKINGS = Table(
    "hospital-bookings",
    "pk",
    indexes=(
        Index("by_plate", "plate", "appointment_at"),
        Index("by_lot", "lot_id", "appointment_at"),
        Index("held_by_lot", "held_lot_id", "entry_until"),
        Index("held_by_end", "held", "entry_until"),
    ),
    purpose="Hospital lots' booking policies, per-slot booked counts (the quota) and bookings (S12).",
)
HOTLINE_TICKETS = Table(
    "hotline-tickets",
    "pk",
    indexes=(
        Index("by_district", "district_code", "created_at"),
        Index("by_operator", "operator_id", "created_at"),
        Index("by_citizen", "citizen", "created_at"),
        Index("pending_by_due", "pending", "next_due_at"),
    ),
    purpose="24-hour hotline tickets with their audit trail (S8).",
)

CHARGING = Table(
    "charging",
    "pk",
    indexes=(Index("by_lot_plate", "lot_plate", "started_at"), Index("by_lot", "lot_id", "started_at")),
    purpose="Lots' charging policies and the charging sessions charging operators report (S12).",
)

SHARING = Table(
    "sharing",
    "pk",
    indexes=(Index("by_plate", "plate", "pk"), Index("by_offer", "offer_id", "pk"), Index("by_applicant", "applicant", "pk")),
    purpose="Off-peak and regional shared-parking offers, applications and the rights of named plates (S6, S12).",
)

# The city's governance loop (issue 11): settlement statements, fee statements, the push outbox (S5, S10).
SETTLEMENTS = Table(
    "settlements",
    "pk",
    "sk",
    purpose="Issued daily settlement statements per operator (immutable) and half-yearly platform fee statements.",
)
CITY_PUSHES = Table(
    "city-pushes",
    "pk",
    "sk",
    purpose="Outbox of signed pushes to the city operation platform, ordered per lot, kept until delivered.",
)

ANOMALIES = Table(
    "anomalies",
    "lot_id",
    "sk",
    purpose="Supervision anomalies per lot: comms_lost / comms_restored with their flags (S16).",
)

# The verifiable archive (issue 12): the transparency log's head, advanced by a conditional write.
AUDIT_LOG = Table(
    "audit-log",
    "pk",
    purpose="Head (tree size, root, version) of the archive's Merkle log and its sequenced archive objects.",
)

# Supervision's fraud and data-hiding signals and the daily compliance snapshots (issue 11, S14, S16).
SUPERVISION = Table(
    "supervision",
    "pk",
    "sk",
    indexes=(Index("by_district", "district_code", "sk"),),
    purpose="Fraud and data-hiding signals per lot and day (reviewed by the district), lots' daily figures, daily compliance.",
)

TABLES: tuple[Table, ...] = (
    OPERATORS, LOTS, DEVICES, SESSIONS, EVENT_ACKS, NONCES, LOT_STATUS, TARIFFS, BILLS, PAYMENTS, COUPONS, LEDGER,
    CITIZENS, ARREARS,
    # Service scenarios (issue 13)
    HOSPITAL_BOOKINGS, HOTLINE_TICKETS, CHARGING, SHARING,
    SETTLEMENTS, CITY_PUSHES, ANOMALIES,
    AUDIT_LOG,
    SUPERVISION,  # issue 11: fraud signals and daily compliance
)


@dataclass(frozen=True)
class Bucket:
    logical: str
    object_lock_days: int = 0
    purpose: str = ""

    @property
    def name(self) -> str:
        return resource_name(self.logical)


EVENT_ARCHIVE = Bucket(
    "event-archive",
    object_lock_days=3650,
    purpose="Immutable JSON Lines archive of every accepted event, by date/district/lot.",
)
BUCKETS: tuple[Bucket, ...] = (EVENT_ARCHIVE,)

DEVICE_SECRETS_KEY_ALIAS = f"alias/{APP}-device-secrets"
ADMIN_TOKEN_PARAMETER = "admin-token-signing-key"  # SSM SecureString, see shared/adapters/parameters.py
# Provider secrets, SSM SecureString, set by ops (python -m infra.cdk.secrets prints what is missing).
STRIPE_API_KEY_PARAMETER = "stripe-api-key"
STRIPE_WEBHOOK_SECRET_PARAMETER = "stripe-webhook-secret"
# The signed-note signer key of the archive's transparency log (issue 12), SSM SecureString.
AUDIT_LOG_KEY_PARAMETER = "audit-log-signing-key"


def parameter_name(logical: str, stage_name: str | None = None) -> str:
    return f"/{APP}/{stage_name or stage()}/{logical}"


@dataclass(frozen=True)
class Function:
    """A Lambda entry point in ``functions/``; ``handler`` is a dotted path to ``module.callable``."""

    logical: str
    handler: str
    purpose: str
    tables_read: tuple[str, ...] = ()
    tables_write: tuple[str, ...] = ()
    buckets_write: tuple[str, ...] = ()
    state_machines_start: tuple[str, ...] = ()
    parameters_read: tuple[str, ...] = ()  # logical SSM parameter names (SecureString)
    task_tokens_for: tuple[str, ...] = ()  # state machines whose waiting tasks it may complete (SendTask*)
    stream_source: str | None = None  # logical name of a table whose stream feeds this function
    batch_size: int = 100
    timeout_s: int = 30
    buckets_read: tuple[str, ...] = ()  # issue 12: the archive writer reads the log's edge tiles back
    texts_phones: bool = False  # issue 14: sends SMS to phone numbers (SNS, never to a topic)
    stream_events: tuple[str, ...] = ("INSERT",)  # which changes of its stream invoke it (an event-source filter)
    # issue 10: a tumbling window (seconds) on the stream's mapping, so that each batch names its shard (shardId)
    stream_window_s: int = 0
    # issue 10: the function's Lambda memory in MB; None: the stage's default (infra/cdk/stages.py
    # function_memory_mb). Set only from a measured peak RSS with at least 2x headroom (bench/footprint.py).
    memory_mb: int | None = None

    @property
    def name(self) -> str:
        return resource_name(self.logical)


@dataclass(frozen=True)
class StateMachine:
    logical: str
    definition_file: str  # relative to state_machines/
    kind: Literal["STANDARD", "EXPRESS"]
    tasks: tuple[str, ...]  # logical Function names substituted into ${...} placeholders
    purpose: str = ""

    @property
    def name(self) -> str:
        return resource_name(self.logical)


@dataclass(frozen=True)
class Schedule:
    logical: str
    expression: str  # rate(...) or cron(...) in EventBridge syntax
    function: str  # logical Function name
    purpose: str = ""
    payload: dict = field(default_factory=dict)


MONEY_TABLES = ("tariffs", "bills", "payments", "coupons", "ledger")
PAYMENT_PARAMETERS = (STRIPE_API_KEY_PARAMETER, STRIPE_WEBHOOK_SECRET_PARAMETER)
SCENARIO_TABLES = ("hospital-bookings", "hotline-tickets", "charging", "sharing")  # issue 13

FUNCTIONS: tuple[Function, ...] = (
    Function(
        "api",
        "functions.api.app.app",
        "HTTP API: device events, the service window (availability, quotes, the pay code, pay-later "
        "registration, bills, disputes), provider callbacks, and staff routes (registry, tariffs, arrears).",
        tables_read=("operators", "lots", "devices", "sessions", "event-acks", "lot-status", *MONEY_TABLES, "citizens", "arrears",
                     *SCENARIO_TABLES, "settlements", "city-pushes", "anomalies", "supervision"),
        tables_write=("operators", "lots", "devices", "sessions", "event-acks", "nonces", "lot-status", *MONEY_TABLES, "citizens", "arrears",
                      *SCENARIO_TABLES, "city-pushes", "supervision"),
        state_machines_start=("unmatched-exit-review", "pay-later-billing", "arrears-escalation"),
        parameters_read=PAYMENT_PARAMETERS,
        task_tokens_for=("pay-later-billing", "arrears-escalation"),
        # issue 10: it waits on DynamoDB and the payment provider; measured peak RSS 109 MB after 20
        # pay-on-exit sessions (bench/footprint.py). CPU costs the same GB-s below 1,769 MB, waiting costs
        # in proportion to memory: 256 MB is $2 less per million pay-on-exit sessions than 512 MB, a warm
        # exit ~13 ms slower and a cold start's import ~2x slower (bench/README.md, "Which memory").
        memory_mb=256,
    ),
    Function(
        "archive-writer",
        "functions.archive_writer.handler.handler",
        "Writes accepted events from the acks stream to the S3 archive in JSON Lines batches, and appends "
        "them to the archive's transparency log (tiles and signed checkpoint in the same bucket); records "
        "each lot device's newest acceptance in the batch as its last-seen.",
        tables_read=("event-acks", "audit-log"),
        tables_write=("event-acks", "audit-log", "lot-status"),  # lot-status: the devices' last-seen (issue 10)
        buckets_write=("event-archive",),
        parameters_read=(AUDIT_LOG_KEY_PARAMETER,),
        buckets_read=("event-archive",),
        stream_source="event-acks",
        batch_size=500,
        timeout_s=120,
    ),
    Function(
        "session-review",
        "functions.session_review.handler.handler",
        "Workflow task: after the reconciliation window, flags an exit whose entry never came.",
        tables_read=("sessions",),
        tables_write=("sessions",),
    ),
    Function(
        "reconciliation",
        "functions.reconciliation.handler.handler",
        "Scheduled daily: matches each provider's transactions of the day to the ledger; applies lost "
        "callbacks, flags what only one side has or where amounts differ.",
        tables_read=("operators", "lots", *MONEY_TABLES, "citizens", "arrears", "charging", "sharing", "hospital-bookings"),
        tables_write=(*MONEY_TABLES, "sharing"),  # sharing: a lost callback's payment puts a shared-parking right in force
        parameters_read=PAYMENT_PARAMETERS,
        task_tokens_for=("pay-later-billing", "arrears-escalation"),
        timeout_s=300,
    ),
    Function(
        "pay-later-billing",
        "functions.pay_later_billing.handler.handler",
        "Workflow tasks of pay-later billing after an unpaid grace period: charge the saved method, wait for "
        "payment between retries, open arrears.",
        tables_read=("operators", "lots", *MONEY_TABLES, "citizens", "arrears", "charging", "sharing", "hospital-bookings"),
        tables_write=(*MONEY_TABLES, "citizens", "arrears"),
        state_machines_start=("arrears-escalation",),
        parameters_read=PAYMENT_PARAMETERS,
        task_tokens_for=("pay-later-billing", "arrears-escalation"),
        timeout_s=60,
    ),
    Function(
        "arrears-escalation",
        "functions.arrears_escalation.handler.handler",
        "Workflow tasks of the arrears ladder: official reminders, pay-later suspension, exit flags, hand-over.",
        tables_read=("operators", "lots", *MONEY_TABLES, "citizens", "arrears", "charging", "sharing", "hospital-bookings"),
        tables_write=("bills", "ledger", "citizens", "arrears"),
        task_tokens_for=("arrears-escalation",),
    ),
    Function(
        "lot-liveness",
        "functions.lot_liveness.handler.handler",
        "Scheduled: marks devices and lots silent past their heartbeat window as offline (S16).",
        tables_read=("lots", "lot-status", "anomalies"),
        tables_write=("lot-status", "anomalies"),
    ),
    # The city's governance loop (issue 11)
    Function(
        "settlement",
        "functions.settlement.handler.handler",
        "Scheduled daily: issues each operator's settlement statement of the previous local day from the ledger.",
        tables_read=("operators", "lots", "bills", "payments", "ledger", "settlements"),  # payments: reconciliation findings
        tables_write=("settlements",),
        timeout_s=900,
    ),
    Function(
        "platform-fee",
        "functions.platform_fee.handler.handler",
        "Scheduled half-yearly: bills the platform service fee of government-owned lots to their operators (S10) "
        "and posts the districts' share of it (S15).",
        tables_read=("operators", "lots", "ledger", "settlements"),
        tables_write=("ledger", "settlements"),
        timeout_s=300,
    ),
    Function(
        "city-push",
        "functions.city_push.handler.handler",
        "Scheduled: queues live occupancy and daily statistics for the city operation platform and delivers "
        "the outbox, signed, in order per lot, with backoff (S5).",
        tables_read=("operators", "lots", "lot-status", "settlements", "city-pushes"),
        tables_write=("city-pushes",),
        timeout_s=120,
    ),
    # Service scenarios (issue 13)
    Function(
        "scenario-sweep",
        "functions.scenario_sweep.handler.handler",
        "Scheduled: releases hospital bookings whose entry window closed unused (no-shows, S12); escalates "
        "overdue hotline tickets (operator, then district, then city) and closes resolved tickets whose "
        "confirmation timed out (S8).",
        tables_read=("lots", "hospital-bookings", "hotline-tickets"),
        tables_write=("hospital-bookings", "hotline-tickets"),
    ),
    # Supervision (issue 11): fraud and data-hiding signals, compliance stored daily (S14, S16)
    Function(
        "supervision-daily",
        "functions.supervision_daily.handler.handler",
        "Scheduled daily: scans each lot's previous day (archived events, open sessions, bills, outages) for "
        "fraud and data-hiding signals for the district to review, and stores the day's compliance rates.",
        tables_read=("operators", "lots", "lot-status", "sessions", "bills", "anomalies", "supervision"),
        tables_write=("supervision",),
        buckets_read=("event-archive",),
        timeout_s=900,
    ),
    # The citizens' sign-in in AWS (issue 14): Cognito's custom-auth triggers on PhoneLogin
    Function(
        "citizen-sign-in",
        "functions.citizen_sign_in.handler.handler",
        "Cognito custom-auth triggers of the citizens' user pool: texts a sign-in code (SNS) and checks the "
        "answer under the per-phone limits of the platform's own sign-in (counters in the citizens table).",
        tables_read=("citizens",),
        tables_write=("citizens",),
        parameters_read=(ADMIN_TOKEN_PARAMETER,),  # the challenge's HMAC key, as in /v1/auth
        texts_phones=True,
        timeout_s=5,  # Cognito waits at most 5 s for a trigger
    ),
)

# The archive's money records (issue 12): the functions that commit payments, refunds, adjustments and
# write-offs also archive them (shared/archive/books.py) and append them to the transparency log, so they
# get the archive writer's grants on the log's head, the archive bucket and the signing key.
# Issue 12: payments, refunds, adjustments and write-offs reach the archive's log from the ledger's stream,
# in batches, off the paying request's path (a commit costs no S3 or log write; every committed posting is
# delivered at least once, a crash included).
FUNCTIONS = (
    *FUNCTIONS,
    Function(
        "books-writer",
        "functions.books_writer.handler.handler",
        "Writes each new payment, refund, adjustment and write-off posting from the ledger's stream to the S3 "
        "archive (books/), and appends them to the archive's transparency log, as the archive writer does for events.",
        tables_read=("ledger", "audit-log"),
        tables_write=("audit-log",),
        buckets_write=("event-archive",),
        buckets_read=("event-archive",),
        parameters_read=(AUDIT_LOG_KEY_PARAMETER,),
        stream_source="ledger",
        batch_size=500,
        timeout_s=120,
    ),
    # Every stored version of a lot, a tariff and an operator, archived and logged (shared/archive/registry.py).
    *(Function(
        f"registry-writer-{table}",
        f"functions.registry_writer.handler.{table}",
        f"Writes each stored version of a {table[:-1]} from the {table} table's stream to the S3 archive (registry/) "
        "and appends it to the archive's transparency log, so replay can price from the archive alone.",
        tables_read=(table, "audit-log"),
        tables_write=("audit-log",),
        buckets_write=("event-archive",),
        buckets_read=("event-archive",),
        parameters_read=(AUDIT_LOG_KEY_PARAMETER,),
        stream_source=table,
        stream_events=("INSERT", "MODIFY"),
        batch_size=100,
        timeout_s=60,
    ) for table in ("lots", "tariffs", "operators")),
    # Pay-later at the end of the grace period (issue 10): the billing workflow starts only for bills unpaid then.
    Function(
        "pay-later-grace",
        "functions.pay_later_grace.handler.handler",
        "Scheduled: starts the pay-later billing workflow of each bill whose grace period ended unpaid (one "
        "query of the bills' sparse grace-end index; a bill paid in its grace period never starts one).",
        tables_read=("bills",),
        tables_write=("bills",),
        state_machines_start=("pay-later-billing",),
        timeout_s=120,
    ),
)

# issue 10: open counts from the acks stream. An entry or exit no longer adds to its lot's open count in its
# transaction (2 write units per event on one hot item): its ack carries the change, and this function adds a
# batch's changes per lot in one write, exactly once per event (per-shard marks: shared/availability/open_counts.py).
FUNCTIONS = (
    *FUNCTIONS,
    Function(
        "open-counts",
        "functions.open_counts.handler.handler",
        "Adds the entries and exits of a batch from the acks stream to each lot's open-session count (availability), "
        "exactly once per event whatever the stream redelivers.",
        tables_read=("event-acks", "lot-status"),
        tables_write=("lot-status",),
        stream_source="event-acks",
        stream_events=("INSERT",),
        stream_window_s=900,  # the window's state is unused: it only makes each batch name its shard
        batch_size=500,
        timeout_s=60,
    ),
)


STATE_MACHINES: tuple[StateMachine, ...] = (
    StateMachine(
        "unmatched-exit-review",
        "unmatched_exit_review.asl.json",
        "STANDARD",
        tasks=("session-review",),
        purpose="Waits the reconciliation window for a late entry, then flags the session for staff review.",
    ),
    StateMachine(
        "pay-later-billing",
        "pay_later_billing.asl.json",
        "STANDARD",
        tasks=("pay-later-billing",),
        purpose="One per pay-later bill unpaid at its grace end (started by the sweep): off-session charge with "
                "retries, arrears.",
    ),
    StateMachine(
        "arrears-escalation",
        "arrears_escalation.asl.json",
        "STANDARD",
        tasks=("arrears-escalation",),
        purpose="The arrears ladder of one case: reminders, suspension, exit flag, hand-over to collection.",
    ),
)

SCHEDULES: tuple[Schedule, ...] = (
    Schedule(
        "lot-liveness-check",
        "rate(5 minutes)",
        "lot-liveness",
        purpose="Find lots whose link is cut (S16 supervision).",
    ),
    Schedule(
        "daily-reconciliation",
        "cron(0 18 * * ? *)",
        "reconciliation",
        purpose="02:00 Asia/Shanghai: reconcile the previous local day with every provider.",
    ),
    # Service scenarios (issue 13)
    Schedule(
        "scenario-sweep",
        "rate(5 minutes)",
        "scenario-sweep",
        purpose="Hospital no-shows released; overdue hotline tickets escalated; unconfirmed closures timed out.",
    ),
    # The city's governance loop (issue 11)
    Schedule(
        "daily-settlement",
        "cron(30 19 * * ? *)",
        "settlement",
        purpose="03:30 Asia/Shanghai, after reconciliation: the previous local day's statements.",
    ),
    Schedule(
        "half-year-platform-fee",
        "cron(0 20 1 1,7 ? *)",
        "platform-fee",
        purpose="04:00 Asia/Shanghai on 2 January and 2 July: the service fee of the half year just ended (S10).",
    ),
    Schedule(
        "city-push",
        "rate(5 minutes)",
        "city-push",
        purpose="Live occupancy to the city operation platform and the outbox delivered (S5).",
    ),
    # Supervision (issue 11)
    Schedule(
        "daily-supervision",
        "cron(0 20 * * ? *)",
        "supervision-daily",
        purpose="04:00 Asia/Shanghai, after the archive caught up: fraud signals and compliance of the previous day.",
    ),
    # Pay-later at the end of the grace period (issue 10)
    Schedule(
        "pay-later-grace-end",
        "rate(5 minutes)",
        "pay-later-grace",
        purpose="Bills whose pay-later grace period ended unpaid: their billing workflow starts (charge, retries, arrears).",
    ),
)


def task_placeholder(function_logical: str) -> str:
    """The ``${...}`` name an ASL file uses for a task function's ARN, e.g. ``SessionReviewFunctionArn``.

    The local stack and CDK (``DefinitionSubstitutions``) both substitute it; the ASL file never changes.
    """
    return "".join(part.capitalize() for part in function_logical.split("-")) + "FunctionArn"


def state_machine_env(logical: str) -> str:
    """The environment variable through which a function learns a state machine's ARN."""
    return "STATE_MACHINE_ARN_" + logical.upper().replace("-", "_")


def function(logical: str) -> Function:
    return next(f for f in FUNCTIONS if f.logical == logical)


def state_machine(logical: str) -> StateMachine:
    return next(m for m in STATE_MACHINES if m.logical == logical)


def table(logical: str) -> Table:
    return next(t for t in TABLES if t.logical == logical)
