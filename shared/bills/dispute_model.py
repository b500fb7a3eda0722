"""A citizen's dispute of a bill and staff's decision. Pure: no I/O."""

from __future__ import annotations

from datetime import datetime
from enum import Enum

from pydantic import BaseModel, Field


class DisputeReason(str, Enum):
    MISREAD_PLATE = "misread_plate"  # not my car
    MISSED_EXIT = "missed_exit"  # I left earlier than the bill says
    PHANTOM_SESSION = "phantom_session"  # I was never there
    OTHER = "other"


class Dispute(BaseModel):
    bill_id: str
    district_code: str
    operator_id: str
    account_id: str
    reason: DisputeReason
    detail: str = Field("", max_length=1000)
    opened_at: datetime
    evidence: dict[str, str | None] = Field(default_factory=dict)
    decision: str | None = None  # upheld / rejected
    fair_amount_fen: int | None = None
    note: str = ""
    decided_by: str | None = None
    decided_at: datetime | None = None
    version: int = 1
