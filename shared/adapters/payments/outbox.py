"""A simulated provider's webhook queue, shared by the sandbox PSP and the simulated ETC issuer.

Real providers deliver callbacks late, twice, out of order, or not at all; the knobs here let tests and
the local stack reproduce each of those on purpose. Deliveries are signed at send time (like Stripe), so
a delayed callback still carries a fresh timestamp.
"""

from __future__ import annotations

import dataclasses
import json
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from shared.adapters.payments import signed_callbacks
from shared.clock import Clock

Transport = Callable[[dict[str, str], bytes], object]
"""Where a delivery goes: ``transport(headers, body)`` (an HTTP POST to the webhook, or a direct call)."""


@dataclass
class DeliveryBehaviour:
    """How callbacks are delivered. ``duplicates``: each is sent that many extra times; ``reverse_order``:
    due callbacks go newest first; ``delay_s``: a callback is due only once the clock passes its
    creation plus this."""

    duplicates: int = 0
    reverse_order: bool = False
    delay_s: float = 0.0


@dataclass(frozen=True)
class _Delivery:
    seq: int
    due: datetime
    ref: str | None
    body: bytes


class Outbox:
    """Thread-safe queue of callbacks. The transport is called outside the lock, so it may call back into
    the provider; a delivery whose transport raises is put back (with the rest of its batch) for a retry."""

    def __init__(self, clock: Clock, secret: str, header: str) -> None:
        self._clock = clock
        self._secret = secret
        self._header = header
        self._lock = threading.Lock()
        self._queue: list[_Delivery] = []
        self._seq = 0
        self._drop_next = 0

    def put(self, payload: Mapping[str, Any], *, ref: str | None, behaviour: DeliveryBehaviour) -> None:
        """Queue one event (plus its duplicates), unless a lost webhook was asked for."""
        body = json.dumps(payload, separators=(",", ":"), sort_keys=True).encode()
        due = self._clock.now() + timedelta(seconds=behaviour.delay_s)
        with self._lock:
            if self._drop_next > 0:
                self._drop_next -= 1
                return
            for _ in range(1 + max(0, behaviour.duplicates)):
                self._seq += 1
                self._queue.append(_Delivery(self._seq, due, ref, body))

    def _signed(self, body: bytes) -> dict[str, str]:
        timestamp = int(self._clock.now().timestamp())
        return {
            self._header: signed_callbacks.sign(self._secret, body, timestamp),
            "Content-Type": "application/json",
        }

    def deliver(self, transport: Transport, *, reverse_order: bool = False) -> int:
        """Send every due delivery; returns how many were sent."""
        now = self._clock.now()
        with self._lock:
            due = [d for d in self._queue if d.due <= now]
            self._queue = [d for d in self._queue if d.due > now]
        due.sort(key=lambda d: d.seq, reverse=reverse_order)
        for index, delivery in enumerate(due):
            try:
                transport(self._signed(delivery.body), delivery.body)
            except BaseException:
                with self._lock:
                    self._queue.extend(due[index:])
                    self._queue.sort(key=lambda d: d.seq)
                raise
        return len(due)

    def pending(self) -> list[tuple[dict[str, str], bytes]]:
        """Everything queued (due or not), oldest first, signed as of now."""
        with self._lock:
            queued = list(self._queue)
        return [(self._signed(d.body), d.body) for d in queued]

    def forget(self, ref: str) -> int:
        """Lose the queued callbacks about ``ref`` (a webhook that never arrives); returns how many."""
        with self._lock:
            kept = [d for d in self._queue if d.ref != ref]
            lost = len(self._queue) - len(kept)
            self._queue = kept
            return lost

    def drop_next(self, n: int) -> None:
        """Lose the next ``n`` events put (with all their duplicates)."""
        with self._lock:
            self._drop_next += n


class CallbackSimulator:
    """What the sandbox and the simulated issuer share: a behaviour, an outbox and the test hooks on it."""

    behaviour: DeliveryBehaviour

    def __init__(self, clock: Clock, secret: str, header: str, behaviour: DeliveryBehaviour) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._outbox = Outbox(clock, secret, header)
        self.behaviour = behaviour

    def configure(self, **changes: Any) -> None:
        """Change behaviour fields (unknown names raise ``TypeError``)."""
        with self._lock:
            self.behaviour = dataclasses.replace(self.behaviour, **changes)

    def _emit(self, payload: Mapping[str, Any], ref: str | None) -> None:
        self._outbox.put(payload, ref=ref, behaviour=self.behaviour)

    def deliver(self, transport: Transport) -> int:
        with self._lock:
            reverse = self.behaviour.reverse_order
        return self._outbox.deliver(transport, reverse_order=reverse)

    def pending_deliveries(self) -> list[tuple[dict[str, str], bytes]]:
        return self._outbox.pending()

    def forget_callbacks(self, ref: str) -> int:
        return self._outbox.forget(ref)

    def drop_next_callbacks(self, n: int = 1) -> None:
        self._outbox.drop_next(n)
