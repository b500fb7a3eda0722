"""What the service scenarios share: who manages a lot's scenario policies, the next version of such a policy and its PUT,
parsing a request body into a model with field errors (a 400 with a machine-readable code), and a tariff quote with the scenarios' lines (charging, shared-parking rights)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel, ValidationError

from shared.auth import Principal, Role
from shared.errors import Conflict, Forbidden, InvalidInput
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


def put_policy(store, lot: Lot, model: type[BaseModel], principal: Principal, data: dict, now,
               flag_lot: Callable[[str], object] | None, name: str):
    """A PUT of a lot's scenario policy (``store``: ``policy``/``save_policy`` of a booking or charging store):
    who may set it, its next version, the lot flagged first (a policy the hot path would not look for must
    never exist), then saved on its version (409 ``version_conflict`` if it changed meanwhile)."""
    if not manages_lot(principal, lot):
        raise Forbidden(f"{principal.subject} may not set the {name} of lot {lot.lot_id}", code="lot_forbidden")
    policy = next_policy(model, store.policy(lot.lot_id), lot.lot_id, data, principal, now)
    if flag_lot is not None:
        flag_lot(lot.lot_id)
    if not store.save_policy(policy):
        raise Conflict(f"the {name} of {lot.lot_id} changed; read it again", code="version_conflict")
    return policy


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
