"""Scheduled: marks lots whose devices went silent as offline (S16 supervision)."""

from __future__ import annotations

from dataclasses import asdict

from shared.bootstrap import services
from shared.observability import metrics


@metrics.log_metrics
def handler(event: dict, context) -> dict:
    return asdict(services().liveness.run())
