"""Scheduled: the end of pay-later grace periods. Starts the billing workflow of each bill left unpaid
(``PayLaterService.sweep``); a bill paid in its grace period never starts one (issue 10)."""

from __future__ import annotations

from shared.bootstrap import services
from shared.observability import flush


def handler(event: dict, context) -> dict:
    try:
        return services().pay_later.sweep()
    finally:
        flush()
