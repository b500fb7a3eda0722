"""``make run``'s background loop: the streams pumped, the schedules fired, the providers' callbacks delivered
and the demo devices' heartbeats sent, on the real clock (``infra.local.run`` starts it on a thread)."""

from __future__ import annotations

import threading
import time
from typing import TYPE_CHECKING

from infra.local import demo_devices, payment_app
from shared.observability import logger

if TYPE_CHECKING:
    from infra.local.stack import LocalStack

TICK_S = 1.0  # the loop's period when nothing wakes it
BURST_S = 0.05  # woken: the rest of the burst of requests lands first and is delivered in the same pass


def background_loop(stack: LocalStack, stop: threading.Event, api_base: str, credentials: dict | None = None,
                    wake: threading.Event | None = None) -> None:
    """Every ``TICK_S``, or once ``wake`` is set (a request that may have queued work: records on a stream,
    a callback to deliver), as the streams' event-source mappings and the providers do in AWS: within moments,
    not on a fixed second; the providers' callbacks go to the API at ``api_base``. ``stop`` ends it
    (set ``wake`` too, to end it now)."""
    wake = wake or threading.Event()
    next_heartbeat = 0.0
    while True:
        if wake.wait(TICK_S):
            time.sleep(BURST_S)
            wake.clear()
        if stop.is_set():
            return
        try:
            if credentials and time.monotonic() >= next_heartbeat:  # the demo devices keep their lots online
                demo_devices.send_heartbeats(stack.services, credentials)
                next_heartbeat = time.monotonic() + demo_devices.HEARTBEAT_EVERY_S
            stack.pump_streams()
            stack.run_due_schedules()
            payment_app.deliver_callbacks(stack.services.providers, api_base)
        except Exception:  # keep serving; the next tick retries from the same stream position
            logger.exception("local background loop")
