"""Anomalies in DynamoDB. ``anomalies`` table (pk lot_id, sk): ``COMMS#<utc lost since>`` holds one
anomaly (doc); ``OPEN#comms`` points at the lot's open one. Opening writes both in one transaction, the
pointer conditional on not existing, so a lot has at most one open anomaly whatever retries do."""

from __future__ import annotations

from datetime import UTC, datetime

from pynamodb.attributes import JSONAttribute, UnicodeAttribute
from pynamodb.exceptions import DoesNotExist, TransactWriteError
from pynamodb.transactions import TransactWrite

from shared import resources
from shared.adapters.dynamo.conditions import failed_conditions
from shared.adapters.dynamo.models import keyed, transaction_connection
from shared.supervision.anomalies import CommsAnomaly

OPEN = "OPEN#comms"


def _sk(a: CommsAnomaly) -> str:
    return f"COMMS#{a.lost_since.astimezone(UTC).strftime('%Y-%m-%dT%H:%M:%SZ')}"


class AnomalyItem(keyed(resources.table("anomalies"))):
    doc = JSONAttribute(null=True)
    points_at = UnicodeAttribute(null=True)


class AnomalyTable:
    def open(self, anomaly: CommsAnomaly) -> bool:
        try:
            with TransactWrite(connection=transaction_connection()) as tx:
                tx.save(AnomalyItem(lot_id=anomaly.lot_id, sk=OPEN, points_at=_sk(anomaly)),
                        condition=AnomalyItem.lot_id.does_not_exist())
                tx.save(AnomalyItem(lot_id=anomaly.lot_id, sk=_sk(anomaly), doc=anomaly.model_dump(mode="json")))
        except TransactWriteError as exc:
            if failed_conditions(exc):
                return False
            raise
        return True

    def current(self, lot_id: str) -> CommsAnomaly | None:
        try:
            pointer = AnomalyItem.get(lot_id, OPEN, consistent_read=True)
            return CommsAnomaly.model_validate(AnomalyItem.get(lot_id, pointer.points_at, consistent_read=True).doc)
        except DoesNotExist:
            return None

    def close(self, anomaly: CommsAnomaly) -> None:
        with TransactWrite(connection=transaction_connection()) as tx:
            tx.save(AnomalyItem(lot_id=anomaly.lot_id, sk=_sk(anomaly), doc=anomaly.model_dump(mode="json")))
            tx.delete(AnomalyItem(lot_id=anomaly.lot_id, sk=OPEN))

    def of_lot(self, lot_id: str, since: datetime) -> list[CommsAnomaly]:
        cond = AnomalyItem.sk.between(f"COMMS#{since.astimezone(UTC).strftime('%Y-%m-%dT%H:%M:%SZ')}", "COMMS#~")
        return [CommsAnomaly.model_validate(i.doc) for i in AnomalyItem.query(lot_id, cond, consistent_read=True)]
