"""Arrears cases, versioned, with the district's, operator's and plate's queues, in memory."""

from __future__ import annotations

from shared.adapters.memory.db import LOCK, dump, fits
from shared.arrears.model import ArrearsCase


class ArrearsStore:
    def __init__(self) -> None:
        self.cases: dict[str, dict] = {}

    def get(self, case_id: str) -> ArrearsCase | None:
        doc = self.cases.get(case_id)
        return ArrearsCase.model_validate(doc) if doc is not None else None

    def save(self, case: ArrearsCase) -> bool:
        with LOCK:
            if not fits(self.cases, case.case_id, case.version):
                return False
            self.cases[case.case_id] = dump(case)
        return True

    def of_plate(self, plate: str) -> list[ArrearsCase]:
        return [c for c in self.all() if c.plate == plate]

    def open_of_plate(self, plate: str) -> list[ArrearsCase]:
        return [c for c in self.of_plate(plate) if c.is_open]

    def of_district(self, district_code: str) -> list[ArrearsCase]:
        return [c for c in self.all() if c.district_code == district_code]

    def of_operator(self, operator_id: str) -> list[ArrearsCase]:
        return [c for c in self.all() if c.operator_id == operator_id]

    def all(self) -> list[ArrearsCase]:
        return sorted((ArrearsCase.model_validate(d) for d in list(self.cases.values())), key=lambda c: c.opened_at)
