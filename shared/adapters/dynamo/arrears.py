"""Arrears cases: versioned, with indexes for the district's and the operator's collection queues."""

from __future__ import annotations

from pynamodb.exceptions import DoesNotExist

from shared.adapters.dynamo.conditions import save_if, versioned
from shared.adapters.dynamo.models import ArrearsItem
from shared.arrears.model import ArrearsCase


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
        return save_if(item, versioned(ArrearsItem, case.version))

    def of_plate(self, plate: str) -> list[ArrearsCase]:
        return [self.get(i.pk) for i in ArrearsItem.by_plate.query(plate)]

    def of_district(self, district_code: str) -> list[ArrearsCase]:
        return [ArrearsCase.model_validate(i.doc) for i in ArrearsItem.by_district.query(district_code)]

    def of_operator(self, operator_id: str) -> list[ArrearsCase]:
        return [ArrearsCase.model_validate(i.doc) for i in ArrearsItem.by_operator.query(operator_id)]

    def all(self) -> list[ArrearsCase]:
        return [ArrearsCase.model_validate(i.doc) for i in ArrearsItem.scan()]
