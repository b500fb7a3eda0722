"""The arrears cases' port: versioned cases and the district's, operator's and plate's queues."""

from __future__ import annotations

from typing import Protocol

from shared.arrears.model import ArrearsCase


class ArrearsStore(Protocol):
    """Contract (``tests/contracts/test_arrears.py``): ``save`` creates version 1 only if absent, or
    replaces version n - 1 (False: someone changed it first); the queues list every stored case of theirs.
    ``open_of_plate`` is the plate's open cases (``is_open``) as of their last ``save``: the DynamoDB adapter
    keeps the plate's open case ids in the same transaction as each case, so the exit gate reads one item."""

    def get(self, case_id: str) -> ArrearsCase | None: ...

    def save(self, case: ArrearsCase) -> bool: ...

    def of_plate(self, plate: str) -> list[ArrearsCase]: ...

    def open_of_plate(self, plate: str) -> list[ArrearsCase]: ...

    def of_district(self, district_code: str) -> list[ArrearsCase]: ...

    def of_operator(self, operator_id: str) -> list[ArrearsCase]: ...

    def all(self) -> list[ArrearsCase]: ...
