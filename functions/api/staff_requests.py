"""The request bodies of staff routes that parsed their fields one by one (arrears contacts and write-offs,
dispute decisions, a device's secret rotation, a coupon's deactivation): strict pydantic models, every
field typed and bounded before a service or store sees it, and the OpenAPI request schemas. A field that
does not fit answers 400 with its code (``error_codes``: the codes the services answered before)."""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field

MAX_FEN = 10**9  # ten million yuan: more than any parking bill


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)
    error_codes: ClassVar[dict[str, str]] = {}


class ContactRequest(_Body):
    """A contact made with the keeper of a plate in arrears."""

    error_codes: ClassVar[dict[str, str]] = {"channel": "bad_contact", "outcome": "bad_contact"}
    channel: Literal["phone", "letter", "visit", "sms_official"]
    outcome: str = Field(min_length=1, max_length=500, description="What came of it, e.g. promised to pay.")
    note: str = Field("", max_length=1000)


class WriteOffRequest(_Body):
    error_codes: ClassVar[dict[str, str]] = {"reason": "write_off_incomplete", "approver": "write_off_incomplete"}
    reason: str = Field(min_length=1, max_length=1000)
    approver: str = Field(min_length=1, max_length=128, description="Who approved the write-off.")


class DisputeDecision(_Body):
    error_codes: ClassVar[dict[str, str]] = {"decision": "bad_decision", "fair_amount_fen": "bad_amount"}
    decision: Literal["upheld", "rejected"]
    fair_amount_fen: int | None = Field(None, ge=0, le=MAX_FEN, description="Upheld: what the stay should have cost, integer fen (default 0).")
    note: str = Field("", max_length=1000)


class VersionRequest(BaseModel):
    """A change that names the version it is based on. Other fields are ignored: a client may send back the
    record it read."""

    model_config = ConfigDict(extra="ignore", strict=True)
    error_codes: ClassVar[dict[str, str]] = {"version": "version_required"}
    version: int = Field(ge=1, le=2**31, description="The version this change is based on.")
