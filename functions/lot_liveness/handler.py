"""Scheduled: marks lots whose devices went silent as offline (S16 supervision)."""

from __future__ import annotations

from dataclasses import asdict

from shared.bootstrap import services
from shared.observability import flush


def handler(event: dict, context) -> dict:
    report = services().liveness.run()
    flush()
    return asdict(report)
