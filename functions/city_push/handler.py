"""Scheduled every 5 minutes: queue occupancy (and yesterday's statistics once settled), deliver the outbox."""

from __future__ import annotations

from shared.bootstrap import services
from shared.observability import flush


def handler(event: dict, context) -> dict:
    try:
        return services().city_push.run()
    finally:
        flush()
