"""PynamoDB models, one per table in ``shared.resources``. Names and keys come from there only.

Records are stored as a JSON document (``doc``) plus the few attributes that keys, indexes and
conditions need; the pydantic domain model stays the one description of a record's fields.
"""

from __future__ import annotations

import os

from pynamodb.attributes import (
    JSONAttribute,
    NumberAttribute,
    UnicodeAttribute,
    UnicodeSetAttribute,
)
from pynamodb.connection import Connection
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex, KeysOnlyProjection
from pynamodb.models import Model

from shared import resources


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


_connection: Connection | None = None


def transaction_connection() -> Connection:
    """One connection for transactions, per process: creating a botocore client costs ~0.1 s."""
    global _connection
    if _connection is None:
        meta = SessionItem.Meta
        _connection = Connection(region=meta.region, host=getattr(meta, "host", None))
    return _connection


def reset_connections() -> None:
    """Forget the cached connection (the local stack starts a fresh embedded AWS)."""
    global _connection
    _connection = None


def _index(table: resources.Table, name: str) -> type:
    idx = next(i for i in table.indexes if i.name == name)
    projection = AllProjection() if idx.projection == "ALL" else KeysOnlyProjection()
    return type("Meta", (), {"index_name": idx.name, "projection": projection})


class OperatorItem(Model):
    Meta = _Meta.for_table(resources.OPERATORS)
    operator_id = UnicodeAttribute(hash_key=True)
    district_code = UnicodeAttribute()
    version = NumberAttribute()
    doc = JSONAttribute()


class LotsByDistrict(GlobalSecondaryIndex):
    Meta = _index(resources.LOTS, "by_district")
    district_code = UnicodeAttribute(hash_key=True)
    lot_id = UnicodeAttribute(range_key=True)


class LotsByOperator(GlobalSecondaryIndex):
    Meta = _index(resources.LOTS, "by_operator")
    operator_id = UnicodeAttribute(hash_key=True)
    lot_id = UnicodeAttribute(range_key=True)


class LotItem(Model):
    Meta = _Meta.for_table(resources.LOTS)
    lot_id = UnicodeAttribute(hash_key=True)
    district_code = UnicodeAttribute()
    operator_id = UnicodeAttribute()
    version = NumberAttribute()
    doc = JSONAttribute()
    by_district = LotsByDistrict()
    by_operator = LotsByOperator()


class DevicesByLot(GlobalSecondaryIndex):
    Meta = _index(resources.DEVICES, "by_lot")
    lot_id = UnicodeAttribute(hash_key=True)
    device_id = UnicodeAttribute(range_key=True)


class DeviceItem(Model):
    Meta = _Meta.for_table(resources.DEVICES)
    device_id = UnicodeAttribute(hash_key=True)
    lot_id = UnicodeAttribute(null=True)  # district gateways have none: sparse in the index
    district_code = UnicodeAttribute()
    version = NumberAttribute()
    doc = JSONAttribute()
    secret_ciphertext = UnicodeAttribute()  # base64 of the KMS ciphertext, never the secret itself
    by_lot = DevicesByLot()


class OpenByLot(GlobalSecondaryIndex):
    Meta = _index(resources.SESSIONS, "open_by_lot")
    open_lot_id = UnicodeAttribute(hash_key=True)
    pk = UnicodeAttribute(range_key=True)


class UnmatchedByLot(GlobalSecondaryIndex):
    Meta = _index(resources.SESSIONS, "unmatched_by_lot")
    unmatched_lot_id = UnicodeAttribute(hash_key=True)
    pk = UnicodeAttribute(range_key=True)


class SessionsByPlate(GlobalSecondaryIndex):
    Meta = _index(resources.SESSIONS, "by_plate")
    plate = UnicodeAttribute(hash_key=True)
    entered_at = UnicodeAttribute(range_key=True)


class SessionItem(Model):
    """Either a session (pk = session id) or an open-session pointer (pk = OPEN#lot#subject)."""

    Meta = _Meta.for_table(resources.SESSIONS)
    pk = UnicodeAttribute(hash_key=True)
    version = NumberAttribute(null=True)
    doc = JSONAttribute(null=True)
    open_lot_id = UnicodeAttribute(null=True)  # set only while open: the index stays small
    unmatched_lot_id = UnicodeAttribute(null=True)  # set only while waiting for an entry or review
    plate = UnicodeAttribute(null=True)
    entered_at = UnicodeAttribute(null=True)
    session_id = UnicodeAttribute(null=True)  # pointers only
    billed = NumberAttribute(null=True)  # pointers only: a bill exists while open (prepaid in the lot)
    open_by_lot = OpenByLot()
    unmatched_by_lot = UnmatchedByLot()
    by_plate = SessionsByPlate()


class AcksByArchiveObject(GlobalSecondaryIndex):
    Meta = _index(resources.EVENT_ACKS, "by_archive_object")
    archive_key = UnicodeAttribute(hash_key=True)
    pk = UnicodeAttribute(range_key=True)


class AckItem(Model):
    """The acknowledgement of one accepted event, keyed ``lot#event_id``; its stream feeds the archive."""

    Meta = _Meta.for_table(resources.EVENT_ACKS)
    pk = UnicodeAttribute(hash_key=True)
    lot_id = UnicodeAttribute()
    district_code = UnicodeAttribute()
    device_id = UnicodeAttribute()
    accepted_at = UnicodeAttribute()
    ack = JSONAttribute()
    event = JSONAttribute()
    archive_key = UnicodeAttribute(null=True)
    by_archive_object = AcksByArchiveObject()


class NonceItem(Model):
    Meta = _Meta.for_table(resources.NONCES)
    pk = UnicodeAttribute(hash_key=True)
    expires_at = NumberAttribute()  # epoch seconds; DynamoDB TTL removes it after the window


class LotStatusItem(Model):
    """``item`` = ``LOT`` (counts, liveness) or ``DEVICE#<id>`` (last seen)."""

    Meta = _Meta.for_table(resources.LOT_STATUS)
    lot_id = UnicodeAttribute(hash_key=True)
    item = UnicodeAttribute(range_key=True)
    open_count = NumberAttribute(null=True)
    unmatched_count = NumberAttribute(null=True)  # exits still waiting for their entry
    reported_total = NumberAttribute(null=True)
    reported_free = NumberAttribute(null=True)
    reported_at = NumberAttribute(null=True)  # epoch milliseconds of occurred_at
    last_seen = NumberAttribute(null=True)  # epoch milliseconds, server time
    online = NumberAttribute(null=True)  # 1/0; written by the liveness check
    offline_since = NumberAttribute(null=True)


class TariffItem(Model):
    Meta = _Meta.for_table(resources.TARIFFS)
    tariff_id = UnicodeAttribute(hash_key=True)
    district_code = UnicodeAttribute(null=True)  # None: a city-wide tariff
    version = NumberAttribute()
    doc = JSONAttribute()


class BillsByPlate(GlobalSecondaryIndex):
    Meta = _index(resources.BILLS, "by_plate")
    plate = UnicodeAttribute(hash_key=True)
    created_at = UnicodeAttribute(range_key=True)


class BillsByLane(GlobalSecondaryIndex):
    Meta = _index(resources.BILLS, "by_lane")
    lane_key = UnicodeAttribute(hash_key=True)
    exited_at = UnicodeAttribute(range_key=True)


class BillsByLot(GlobalSecondaryIndex):
    Meta = _index(resources.BILLS, "by_lot")
    lot_id = UnicodeAttribute(hash_key=True)
    created_at = UnicodeAttribute(range_key=True)


class BillItem(Model):
    """A bill (pk = bill id) or a dispute (pk = DISPUTE#id)."""

    Meta = _Meta.for_table(resources.BILLS)
    pk = UnicodeAttribute(hash_key=True)
    version = NumberAttribute()
    doc = JSONAttribute()
    plate = UnicodeAttribute(null=True)
    lot_id = UnicodeAttribute(null=True)
    created_at = UnicodeAttribute(null=True)
    lane_key = UnicodeAttribute(null=True)  # lot#lane, set once the car left through a lane
    exited_at = UnicodeAttribute(null=True)
    by_plate = BillsByPlate()
    by_lane = BillsByLane()
    by_lot = BillsByLot()


class PaymentsByProviderRef(GlobalSecondaryIndex):
    Meta = _index(resources.PAYMENTS, "by_provider_ref")
    provider_ref = UnicodeAttribute(hash_key=True)


class PaymentsByProviderDay(GlobalSecondaryIndex):
    Meta = _index(resources.PAYMENTS, "by_provider_day")
    provider_day = UnicodeAttribute(hash_key=True)
    created_at = UnicodeAttribute(range_key=True)


class PaymentItem(Model):
    """A payment (pk = pay_...), a refund (rf_...), a callback receipt (CALLBACK#...) or a reconciliation
    finding (FINDING#...)."""

    Meta = _Meta.for_table(resources.PAYMENTS)
    pk = UnicodeAttribute(hash_key=True)
    version = NumberAttribute(null=True)
    doc = JSONAttribute(null=True)
    provider_ref = UnicodeAttribute(null=True)
    provider_day = UnicodeAttribute(null=True)  # provider#YYYY-MM-DD (Shanghai) of creation: reconciliation
    created_at = UnicodeAttribute(null=True)
    by_provider_ref = PaymentsByProviderRef()
    by_provider_day = PaymentsByProviderDay()


class CouponItem(Model):
    """A coupon (pk = COUPON#code) or one redemption (pk = REDEEMED#code#bill)."""

    Meta = _Meta.for_table(resources.COUPONS)
    pk = UnicodeAttribute(hash_key=True)
    version = NumberAttribute(null=True)
    doc = JSONAttribute(null=True)
    redeemed = NumberAttribute(null=True)


class NoticesByAccount(GlobalSecondaryIndex):
    Meta = _index(resources.CITIZENS, "notices_by_account")
    account_id = UnicodeAttribute(hash_key=True)
    notice_at = UnicodeAttribute(range_key=True)


class CitizenItem(Model):
    """An account (pk = ACCOUNT#id), a verified plate's owner (PLATE#plate, unique) or a pending plate
    challenge (CHALLENGE#account#plate)."""

    Meta = _Meta.for_table(resources.CITIZENS)
    pk = UnicodeAttribute(hash_key=True)
    version = NumberAttribute(null=True)
    doc = JSONAttribute(null=True)
    account_id = UnicodeAttribute(null=True)
    pay_later = UnicodeAttribute(null=True)  # PLATE#: the owner's pay-later state, ``registered:ready`` (issue 10)
    notice_at = UnicodeAttribute(null=True)  # NOTICE#account#id only (UTC ISO + id): sparse in the index
    notices_by_account = NoticesByAccount()


class ArrearsByDistrict(GlobalSecondaryIndex):
    Meta = _index(resources.ARREARS, "by_district")
    district_code = UnicodeAttribute(hash_key=True)
    opened_at = UnicodeAttribute(range_key=True)


class ArrearsByOperator(GlobalSecondaryIndex):
    Meta = _index(resources.ARREARS, "by_operator")
    operator_id = UnicodeAttribute(hash_key=True)
    opened_at = UnicodeAttribute(range_key=True)


class ArrearsByPlate(GlobalSecondaryIndex):
    Meta = _index(resources.ARREARS, "by_plate")
    plate = UnicodeAttribute(hash_key=True)
    opened_at = UnicodeAttribute(range_key=True)


class ArrearsItem(Model):
    Meta = _Meta.for_table(resources.ARREARS)
    pk = UnicodeAttribute(hash_key=True)
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
