"""The one place where domain errors become HTTP responses: by type, never by message text."""

from __future__ import annotations

import json
import re
from datetime import datetime

from chalice import Response

from shared.clock import SHANGHAI
from shared.errors import (
    Conflict,
    DomainError,
    Forbidden,
    MethodNotAllowed,
    InvalidInput,
    NotFound,
    PayloadTooLarge,
    TooManyRequests,
    Unauthenticated,
    Unavailable,
)

STATUS_BY_TYPE: dict[type[DomainError], int] = {
    InvalidInput: 400,
    Unauthenticated: 401,
    Forbidden: 403,
    NotFound: 404,
    MethodNotAllowed: 405,
    Conflict: 409,
    PayloadTooLarge: 413,
    TooManyRequests: 429,
    Unavailable: 503,
}


def status_for(error: DomainError) -> int:
    for cls in type(error).__mro__:
        if cls in STATUS_BY_TYPE:
            return STATUS_BY_TYPE[cls]
    return 400  # a domain error is always the caller's to fix


def error_response(error: DomainError, request_id: str | None = None) -> Response:
    body = error.as_dict()
    if request_id:
        body["request_id"] = request_id
    response = json_response(body, status_for(error))
    if isinstance(error, TooManyRequests):
        response.headers["Retry-After"] = str(error.retry_after)
    return response


# An instant pydantic wrote in UTC ("Z" or "+00:00"): every answer gives Wuxi's own offset instead.
_UTC_INSTANT = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|\+00:00)$")


def local_times(value: object) -> object:
    """Every timestamp in an answer with the +08:00 offset (the same instant), whoever serialised it."""
    if isinstance(value, dict):
        return {k: local_times(v) for k, v in value.items()}
    if isinstance(value, list):
        return [local_times(v) for v in value]
    if isinstance(value, datetime) and value.tzinfo is not None:
        return value.astimezone(SHANGHAI).isoformat()
    if isinstance(value, str) and _UTC_INSTANT.match(value):
        return datetime.fromisoformat(value.replace("Z", "+00:00")).astimezone(SHANGHAI).isoformat()
    return value


def json_response(body: object, status: int = 200) -> Response:
    return Response(
        body=json.dumps(local_times(body), ensure_ascii=False, default=str),
        status_code=status,
        headers={"Content-Type": "application/json; charset=utf-8"},
    )
