"""What the service scenarios share: parsing a request body into a model with field errors (a 400 with a
machine-readable code), and a tariff quote with the scenarios' lines (charging, shared-parking rights)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel, ValidationError

from shared.errors import InvalidInput


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
