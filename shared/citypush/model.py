"""A push to the city operation platform and its retry schedule. Pure: no I/O.

A push is queued before it is sent (the outbox) and kept until the platform answers 2xx. Within a lot,
pushes go out in the order they were queued: the lot's oldest undelivered push is its head, and nothing
behind it is sent before it. A push failing for ``DEAD_AFTER`` attempts is **dead**: an alarm counts it and
staff see it (``GET /v1/admin/city-pushes?state=dead``), but it is never dropped: it is still retried at
the longest backoff (or at once when staff requeue it), and still holds its lot's later pushes back.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from enum import Enum

from pydantic import BaseModel, Field

BASE_BACKOFF_S = 30
MAX_BACKOFF_S = 1800
DEAD_AFTER = 8


class PushState(str, Enum):
    PENDING = "pending"
    DEAD = "dead"  # still retried; visible and alarmed
    DELIVERED = "delivered"


class Push(BaseModel):
    push_id: str = Field(description="The idempotency key sent to the platform: the same push, the same key.")
    lot_id: str
    kind: str  # occupancy | daily_stats
    body: dict
    queued_at: datetime
    state: PushState = PushState.PENDING
    attempts: int = 0
    next_attempt_at: datetime
    last_error: str | None = None
    delivered_at: datetime | None = None


def backoff(attempts: int) -> timedelta:
    """Wait after the ``attempts``-th failure: 30 s, 60 s, 120 s, ... capped at 30 minutes."""
    return timedelta(seconds=min(MAX_BACKOFF_S, BASE_BACKOFF_S * 2 ** max(0, attempts - 1)))


def failed(push: Push, error: str, now: datetime) -> Push:
    attempts = push.attempts + 1
    state = PushState.DEAD if attempts >= DEAD_AFTER else PushState.PENDING
    return push.model_copy(update={"attempts": attempts, "state": state, "last_error": error[:500],
                                   "next_attempt_at": now + backoff(attempts)})


def delivered(push: Push, now: datetime) -> Push:
    return push.model_copy(update={"attempts": push.attempts + 1, "state": PushState.DELIVERED, "delivered_at": now,
                                   "last_error": None})


def occupancy_key(lot_id: str, slot: datetime) -> str:
    return f"occ:{lot_id}:{slot.strftime('%Y%m%dT%H%M')}"


def daily_key(lot_id: str, day: str) -> str:
    return f"day:{lot_id}:{day}"


def slot_of(now: datetime, minutes: int = 5) -> datetime:
    """The start of the ``minutes`` slot ``now`` falls in: one occupancy push per lot per slot."""
    return now.replace(minute=now.minute - now.minute % minutes, second=0, microsecond=0)
