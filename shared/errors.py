"""Domain errors. Each carries a machine-readable ``code`` and a human message.

The HTTP status is *not* decided here: ``functions/api/errors.py`` maps error *types* to statuses in one
table, so the domain stays free of transport concerns.
"""

from __future__ import annotations

from typing import Any


class DomainError(Exception):
    code = "domain_error"

    def __init__(self, message: str, *, code: str | None = None, **details: Any) -> None:
        super().__init__(message)
        self.message = message
        if code:
            self.code = code
        self.details = details

    def as_dict(self) -> dict[str, Any]:
        body: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.details:
            body["details"] = self.details
        return body


class InvalidInput(DomainError):
    """The request is malformed or fails validation."""

    code = "invalid_input"


class PayloadTooLarge(DomainError):
    code = "body_too_large"


class Unauthenticated(DomainError):
    """Who is calling could not be established (device signature, admin token)."""

    code = "unauthenticated"


class Forbidden(DomainError):
    """The caller is known but may not act on this resource (wrong lot, wrong district)."""

    code = "forbidden"


class NotFound(DomainError):
    code = "not_found"


class MethodNotAllowed(DomainError):
    """A known resource asked with a method it does not have."""

    code = "method_not_allowed"


class Conflict(DomainError):
    """A conditional write lost: stale version, already exists."""

    code = "conflict"


class Unavailable(DomainError):
    """A dependency (a payment provider) is down; the same request can be retried safely."""

    code = "unavailable"


class TooManyRequests(DomainError):
    """The caller asked too often (a plate's verification codes); ``retry_after`` seconds until it may again."""

    code = "rate_limited"

    def __init__(self, message: str, *, retry_after: int, code: str | None = None) -> None:
        super().__init__(message, code=code, retry_after=retry_after)
        self.retry_after = retry_after

    def as_dict(self) -> dict:
        return {**super().as_dict(), "retry_after": self.retry_after}
