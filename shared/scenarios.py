"""What the service scenarios (hospital bookings, the hotline) share: parsing a request body into a model
with field errors, as a 400 with a machine-readable code."""

from __future__ import annotations

from pydantic import BaseModel, ValidationError

from shared.errors import InvalidInput


def parse(model: type[BaseModel], data: object, code: str):
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        details = [{"field": ".".join(map(str, e["loc"])), "error": e["msg"]} for e in exc.errors()]
        raise InvalidInput(f"invalid {model.__name__.lower()}", code=code, errors=details) from None
