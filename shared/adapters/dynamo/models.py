"""PynamoDB models, one per table in ``shared.resources``. Names and keys come from there only: a model
subclasses ``keyed(table)`` and an index is ``index_of(table, name)``, which read the keys from it.

Records are stored as a JSON document (``doc``) plus the few attributes that keys, indexes and
conditions need; the pydantic domain model stays the one description of a record's fields.
"""

from __future__ import annotations

import json
import os
import threading
import zlib
from typing import Any

import botocore.session
from pynamodb.attributes import (
    Attribute,
    BooleanAttribute,
    JSONAttribute,
    MapAttribute,
    NumberAttribute,
    UnicodeAttribute,
    UnicodeSetAttribute,
)
from pynamodb.connection import Connection
from pynamodb.constants import BINARY, STRING
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex, KeysOnlyProjection
from pynamodb.models import Model

from shared import resources


class PackedJSONAttribute(Attribute[Any]):
    """A JSON document stored deflated, as a binary value (issue 10). A bill's document with its itemised
    quote is ~1.3 KB of JSON and ~0.55 KB deflated: the item stays under 1 KB, so each write of it costs half
    the units (and its ALL-projected index copies with it). Reads also accept the plain JSON string that
    ``JSONAttribute`` stored, so items written before stay readable."""

    attr_type = BINARY

    def serialize(self, value: Any) -> bytes | None:
        if value is None:
            return None
        return zlib.compress(json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode(), 9)

    def get_value(self, value: dict[str, Any]) -> Any:
        return value[STRING] if STRING in value else super().get_value(value)

    def deserialize(self, value: bytes | str) -> Any:
        return json.loads(value if isinstance(value, str) else zlib.decompress(value))


def read_by_keys(model, keys: list, consistent_read: bool = True) -> list:
    """The items of ``keys`` (hash keys), strongly consistent unless told, in the order given: what a
    KEYS_ONLY index's query found, read in BatchGets of 100. Items gone since the query are left out."""
    out = []
    for start in range(0, len(keys), 100):
        chunk = keys[start:start + 100]
        hash_key = model._hash_key_attribute().attr_name
        found = {getattr(i, hash_key): i for i in model.batch_get(chunk, consistent_read=consistent_read)}
        out += [found[k] for k in chunk if k in found]
    return out


class _Meta:
    @staticmethod
    def for_table(table: resources.Table) -> type:
        attrs = {
            "table_name": table.name,
            "region": os.environ.get("AWS_DEFAULT_REGION", "us-east-1"),
            "max_retry_attempts": 3,
        }
        host = os.environ.get("AWS_ENDPOINT_URL_DYNAMODB") or os.environ.get("AWS_ENDPOINT_URL")
        if host:
            attrs["host"] = host
        return type("Meta", (), attrs)


class _OneSession:
    """What a PynamoDB connection keeps its botocore session in (its ``_local``), shared by every table's
    connection in every thread. PynamoDB gives each model's connection a session of its own, per thread, and
    each session loads botocore's endpoint data (~8 MB of Python objects) and the DynamoDB service model
    again: an API container that touches ten tables held ~80 MB of copies (bench/footprint.py), and the local
    stack, whose HTTP server answers each request on a thread of its own, loaded them again per request.
    Creating a client from a session is not thread-safe (why PynamoDB keeps one per thread): here clients
    are created one at a time."""

    def __init__(self) -> None:
        self._lock, self._session = threading.Lock(), None

    @property
    def session(self) -> botocore.session.Session:
        with self._lock:
            if self._session is None:
                session, create_client = botocore.session.get_session(), None

                def serialised(*args, **kwargs):
                    with self._lock:
                        return create_client(*args, **kwargs)

                create_client, session.create_client = session.create_client, serialised
                self._session = session
            return self._session


_SESSION = _OneSession()


class _SharedSession:
    """Mixed into every table's model: its connection creates its botocore client from the one session."""

    @classmethod
    def _get_connection(cls):
        table = super()._get_connection()
        table.connection._local = _SESSION
        return table


_connection: Connection | None = None


def transaction_connection() -> Connection:
    """One connection for transactions, per process: creating a botocore client costs ~0.1 s."""
    global _connection
    if _connection is None:
        meta = SessionItem.Meta
        _connection = Connection(region=meta.region, host=getattr(meta, "host", None))
        _connection._local = _SESSION
    return _connection


def reset_connections() -> None:
    """Forget the cached connection (the local stack starts a fresh embedded AWS)."""
    global _connection
    _connection = None


def _index(table: resources.Table, name: str) -> type:
    idx = next(i for i in table.indexes if i.name == name)
    projection = AllProjection() if idx.projection == "ALL" else KeysOnlyProjection()
    return type("Meta", (), {"index_name": idx.name, "projection": projection})


_ATTRIBUTE = {"S": UnicodeAttribute, "N": NumberAttribute}


def _key_attributes(hash_key: str, hash_type: str, range_key: str | None, range_type: str) -> dict:
    attrs = {hash_key: _ATTRIBUTE[hash_type](hash_key=True)}
    if range_key:
        attrs[range_key] = _ATTRIBUTE[range_type](range_key=True)
    return attrs


def keyed(table: resources.Table) -> type[Model]:
    """The base of a table's model: its Meta and its key attributes, read from ``shared/resources.py``,
    the one place keys are declared (``class LotItem(keyed(resources.LOTS))`` adds the other attributes)."""
    attrs = _key_attributes(table.hash_key, table.hash_type, table.range_key, table.range_type)
    return type(f"{table.logical}-keys", (_SharedSession, Model), {"Meta": _Meta.for_table(table), **attrs})


def index_of(table: resources.Table, name: str) -> type[GlobalSecondaryIndex]:
    """A global secondary index of ``table`` with the keys ``shared/resources.py`` gives it."""
    idx = next(i for i in table.indexes if i.name == name)
    attrs = _key_attributes(idx.hash_key, idx.hash_type, idx.range_key, idx.range_type)
    return type(f"{table.logical}-{name}", (GlobalSecondaryIndex,), {"Meta": _index(table, name), **attrs})


class OperatorItem(keyed(resources.OPERATORS)):
    district_code = UnicodeAttribute()
    version = NumberAttribute()
    doc = JSONAttribute()
    stored_at = UnicodeAttribute(null=True)  # issue 12: when this version was stored (on the stream)


LotsByDistrict = index_of(resources.LOTS, "by_district")


LotsByOperator = index_of(resources.LOTS, "by_operator")


class LotItem(keyed(resources.LOTS)):
    district_code = UnicodeAttribute()
    operator_id = UnicodeAttribute()
    version = NumberAttribute()
    doc = JSONAttribute()
    stored_at = UnicodeAttribute(null=True)  # issue 12: when this version was stored (on the stream)
    by_district = LotsByDistrict()
    by_operator = LotsByOperator()


DevicesByLot = index_of(resources.DEVICES, "by_lot")


class DeviceItem(keyed(resources.DEVICES)):
    lot_id = UnicodeAttribute(null=True)  # district gateways have none: sparse in the index
    district_code = UnicodeAttribute()
    version = NumberAttribute()
    doc = JSONAttribute()
    secret_ciphertext = UnicodeAttribute()  # base64 of the KMS ciphertext, never the secret itself
    by_lot = DevicesByLot()


OpenByLot = index_of(resources.SESSIONS, "open_by_lot")


UnmatchedByLot = index_of(resources.SESSIONS, "unmatched_by_lot")


SessionsByPlate = index_of(resources.SESSIONS, "by_plate")


class SessionItem(keyed(resources.SESSIONS)):
    """Either a session (pk = session id) or an open-session pointer (pk = OPEN#lot#subject)."""

    version = NumberAttribute(null=True)
    doc = JSONAttribute(null=True)
    open_lot_id = UnicodeAttribute(null=True)  # set only while open: the index stays small
    unmatched_lot_id = UnicodeAttribute(null=True)  # set only while waiting for an entry or review
    plate = UnicodeAttribute(null=True)
    entered_at = UnicodeAttribute(null=True)
    session_id = UnicodeAttribute(null=True)  # pointers only
    billed = NumberAttribute(null=True)  # pointers only: a bill exists while open (prepaid in the lot)
    bill_copy = PackedJSONAttribute(null=True)  # pointers only: that bill as last written (the exit reads it here)
    open_by_lot = OpenByLot()
    unmatched_by_lot = UnmatchedByLot()
    by_plate = SessionsByPlate()


AcksByArchiveObject = index_of(resources.EVENT_ACKS, "by_archive_object")


class AckItem(keyed(resources.EVENT_ACKS)):
    """The acknowledgement of one accepted event, keyed ``lot#event_id``; its stream feeds the archive."""

    lot_id = UnicodeAttribute()
    district_code = UnicodeAttribute()
    device_id = UnicodeAttribute()
    accepted_at = UnicodeAttribute()
    ack = JSONAttribute()
    event = JSONAttribute()
    archive_key = UnicodeAttribute(null=True)
    nonce = UnicodeAttribute(null=True)  # a one-event request's nonce: its replay guard (issue 10)
    lot_device = BooleanAttribute(null=True)  # the device is the lot's: the archive writer records its last-seen
    by_archive_object = AcksByArchiveObject()
    open_delta = NumberAttribute(null=True)  # issue 10: the event's change to its lot's open count (the acks stream counts it)


class NonceItem(keyed(resources.NONCES)):
    expires_at = NumberAttribute()  # epoch seconds; DynamoDB TTL removes it after the window


class LotStatusItem(keyed(resources.LOT_STATUS)):
    """``item`` = ``LOT`` (counts, liveness) or ``DEVICE#<id>`` (last seen)."""

    open_count = NumberAttribute(null=True)
    unmatched_count = NumberAttribute(null=True)  # exits still waiting for their entry
    reported_total = NumberAttribute(null=True)
    reported_free = NumberAttribute(null=True)
    reported_at = NumberAttribute(null=True)  # epoch milliseconds of occurred_at
    last_seen = NumberAttribute(null=True)  # epoch milliseconds, server time
    online = NumberAttribute(null=True)  # 1/0; written by the liveness check
    offline_since = NumberAttribute(null=True)
    # issue 10: per stream shard (a short digest of its id), "<last sequence number counted>:<epoch ms>"
    counted = MapAttribute(null=True)


class TariffItem(keyed(resources.TARIFFS)):
    district_code = UnicodeAttribute(null=True)  # None: a city-wide tariff
    version = NumberAttribute()
    doc = JSONAttribute()
    stored_at = UnicodeAttribute(null=True)  # issue 12: when this version was stored (on the stream)


BillsByPlate = index_of(resources.BILLS, "by_plate")


BillsByLane = index_of(resources.BILLS, "by_lane")


BillsByLot = index_of(resources.BILLS, "by_lot")


BillsByGraceEnd = index_of(resources.BILLS, "by_grace_end")


class BillItem(keyed(resources.BILLS)):
    """A bill (pk = bill id) or a dispute (pk = DISPUTE#id)."""

    version = NumberAttribute()
    doc = PackedJSONAttribute()
    plate = UnicodeAttribute(null=True)
    lot_id = UnicodeAttribute(null=True)  # DISPUTES#<district> on disputes only (by_lot); bills carry none
    created_at = UnicodeAttribute(null=True)
    lane_key = UnicodeAttribute(null=True)  # lot#lane, set once the car left through a lane
    exited_at = UnicodeAttribute(null=True)
    grace_queue = UnicodeAttribute(null=True)  # set with grace_due only while the bill awaits its grace end
    grace_due = UnicodeAttribute(null=True)
    by_plate = BillsByPlate()
    by_lane = BillsByLane()
    by_lot = BillsByLot()
    by_grace_end = BillsByGraceEnd()


PaymentsByProviderRef = index_of(resources.PAYMENTS, "by_provider_ref")


PaymentsByProviderDay = index_of(resources.PAYMENTS, "by_provider_day")


class PaymentItem(keyed(resources.PAYMENTS)):
    """A payment (pk = pay_...), a refund (rf_...), a callback receipt (CALLBACK#...) or a reconciliation
    finding (FINDING#...)."""

    version = NumberAttribute(null=True)
    doc = JSONAttribute(null=True)
    provider_ref = UnicodeAttribute(null=True)
    provider_day = UnicodeAttribute(null=True)  # provider#YYYY-MM-DD (Shanghai) of creation: reconciliation
    created_at = UnicodeAttribute(null=True)
    by_provider_ref = PaymentsByProviderRef()
    by_provider_day = PaymentsByProviderDay()


class CouponItem(keyed(resources.COUPONS)):
    """A coupon (pk = COUPON#code) or one redemption (pk = REDEEMED#code#bill)."""

    version = NumberAttribute(null=True)
    doc = JSONAttribute(null=True)
    redeemed = NumberAttribute(null=True)


NoticesByAccount = index_of(resources.CITIZENS, "notices_by_account")


class CitizenItem(keyed(resources.CITIZENS)):
    """An account (pk = ACCOUNT#id), a verified plate's owner (PLATE#plate, unique), a pending plate
    challenge (CHALLENGE#account#plate), a sign-in limit's counter (COUNTER#key: hits, expires_at) or an
    official notice (NOTICE#account#id)."""

    version = NumberAttribute(null=True)
    doc = JSONAttribute(null=True)
    account_id = UnicodeAttribute(null=True)
    hits = NumberAttribute(null=True)
    expires_at = NumberAttribute(null=True)  # epoch seconds; the table's TTL removes old counters
    pay_later = UnicodeAttribute(null=True)  # PLATE#: the owner's pay-later state, ``registered:ready`` (issue 10)
    notice_at = UnicodeAttribute(null=True)  # NOTICE#account#id only (UTC ISO + id): sparse in the index
    notices_by_account = NoticesByAccount()


ArrearsByDistrict = index_of(resources.ARREARS, "by_district")


ArrearsByOperator = index_of(resources.ARREARS, "by_operator")


ArrearsByPlate = index_of(resources.ARREARS, "by_plate")


class ArrearsItem(keyed(resources.ARREARS)):
    version = NumberAttribute()
    doc = JSONAttribute()
    district_code = UnicodeAttribute()
    operator_id = UnicodeAttribute()
    plate = UnicodeAttribute()
    opened_at = UnicodeAttribute()
    # The plate's record (pk = PLATE#plate, no other attribute, so in no index): the ids of its open cases,
    # kept in each case's write; the exit gate reads it in its batch instead of querying (issue 10)
    open_ids = UnicodeSetAttribute(null=True)
    by_district = ArrearsByDistrict()
    by_operator = ArrearsByOperator()
    by_plate = ArrearsByPlate()
