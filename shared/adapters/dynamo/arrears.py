"""Arrears cases: versioned, with indexes for the district's and the operator's collection queues."""

from __future__ import annotations

from pynamodb.exceptions import DoesNotExist, TransactWriteError
from pynamodb.transactions import TransactWrite

from shared.adapters.dynamo import read_ahead
from shared.adapters.dynamo.conditions import failed_conditions, versioned
from shared.adapters.dynamo.ledger import transaction_conflict
from shared.adapters.dynamo.models import ArrearsItem, transaction_connection
from shared.arrears.model import ArrearsCase


def plate_marker_key(plate: str) -> str:
    return f"PLATE#{plate}"


class ArrearsStore:
    def get(self, case_id: str) -> ArrearsCase | None:
        try:
            return ArrearsCase.model_validate(ArrearsItem.get(case_id, consistent_read=True).doc)
        except DoesNotExist:
            return None

    def save(self, case: ArrearsCase) -> bool:
        """Create (version 1) or replace version - 1; False if someone changed it first."""
        item = ArrearsItem(
            pk=case.case_id, version=case.version, doc=case.model_dump(mode="json"), district_code=case.district_code,
            operator_id=case.operator_id, plate=case.plate, opened_at=case.opened_at.isoformat(),
        )  # fmt: skip
        marker = ArrearsItem(pk=plate_marker_key(case.plate))
        ids = ArrearsItem.open_ids
        try:
            with TransactWrite(connection=transaction_connection()) as tx:
                tx.save(item, condition=versioned(ArrearsItem, case.version))
                tx.update(marker, actions=[ids.add({case.case_id}) if case.is_open else ids.delete({case.case_id})])
        except TransactWriteError as exc:
            if failed_conditions(exc) or transaction_conflict(exc):
                return False
            raise
        return True

    def of_plate(self, plate: str) -> list[ArrearsCase]:
        return [self.get(i.pk) for i in ArrearsItem.by_plate.query(plate)]

    def open_of_plate(self, plate: str) -> list[ArrearsCase]:
        """From the plate's record of its open cases (one read, in the exit's batch), not the index."""
        marker = read_ahead.take(ArrearsItem, plate_marker_key(plate))
        if marker is read_ahead.MISS:
            try:
                marker = ArrearsItem.get(plate_marker_key(plate), consistent_read=True)
            except DoesNotExist:
                marker = None
        ids = sorted(marker.open_ids or ()) if marker is not None else []
        cases = [self.get(case_id) for case_id in ids]
        return [c for c in cases if c is not None and c.is_open]

    def of_district(self, district_code: str) -> list[ArrearsCase]:
        return [ArrearsCase.model_validate(i.doc) for i in ArrearsItem.by_district.query(district_code)]

    def of_operator(self, operator_id: str) -> list[ArrearsCase]:
        return [ArrearsCase.model_validate(i.doc) for i in ArrearsItem.by_operator.query(operator_id)]

    def all(self) -> list[ArrearsCase]:
        return [ArrearsCase.model_validate(i.doc) for i in ArrearsItem.scan() if i.doc is not None]  # not PLATE#
