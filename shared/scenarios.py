"""What the service scenarios share: who manages a lot's scenario policies, the next version of such a policy,
parsing a request body into a model with field errors (a 400 with a machine-readable code), and a tariff quote with the scenarios' lines (charging, shared-parking rights)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel, ValidationError

from shared.auth import Principal, Role
from shared.errors import InvalidInput
from shared.registry.model import Lot

_SERVER_FIELDS = ("lot_id", "version", "updated_by", "updated_at")


def manages_lot(principal: Principal, lot: Lot) -> bool:
    """Staff who set a lot's scenario policies (bookings, charging): city admins, its district's staff, its operator."""
    if principal.role is Role.CITY_ADMIN:
        return True
    if principal.role in (Role.DISTRICT_ADMIN, Role.DISTRICT_PLATFORM) and principal.district_code == lot.district_code:
        return True
    return principal.role is Role.OPERATOR and principal.operator_id == lot.operator_id


def next_policy(model: type[BaseModel], current: BaseModel | None, lot_id: str, data: dict, principal: Principal, now):
    """The policy a PUT asks for, one version after ``current`` (the body names the version it is based on
    once a policy exists); the caller saves it conditionally on that version."""
    version = data.get("version", 1 if current is None else None)
    if current is not None and type(version) is not int:
        raise InvalidInput("the body names the version it is based on: {version}", code="version_required")
    fields = {k: v for k, v in data.items() if k not in _SERVER_FIELDS}
    return parse(model, {
        **fields, "lot_id": lot_id, "version": 1 if current is None else version + 1,
        "updated_by": principal.subject, "updated_at": now.isoformat(),
    }, code="invalid_policy")  # fmt: skip


def parse(model: type[BaseModel], data: object, code: str):
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        details = [{"field": ".".join(map(str, e["loc"])), "error": e["msg"]} for e in exc.errors()]
        raise InvalidInput(f"invalid {model.__name__.lower()}", code=code, errors=details) from None


@dataclass(frozen=True)
class AdjustedQuote:
    """The tariff's quote with lines added by the scenarios: what the bill and the gate charge. Never
    below zero; the breakdown keeps the tariff's own figure beside the lines."""

    base: Any  # shared.tariffs.quote.Quote
    lines: list[dict[str, Any]] = field(default_factory=list)

    @property
    def tariff_id(self) -> str:
        return self.base.tariff_id

    @property
    def amount_fen(self) -> int:
        return max(0, self.base.amount_fen + sum(line["amount_fen"] for line in self.lines))

    def as_dict(self) -> dict[str, Any]:
        return {**self.base.as_dict(), "tariff_amount_fen": self.base.amount_fen, "amount_fen": self.amount_fen,
                "adjustments": self.lines}


def with_lines(quote: Any, lines: list[dict[str, Any]]) -> Any:
    """``quote`` with ``lines`` added (an adjusted quote gains them beside its own)."""
    if not lines:
        return quote
    if isinstance(quote, AdjustedQuote):
        return AdjustedQuote(quote.base, [*quote.lines, *lines])
    return AdjustedQuote(quote, lines)
