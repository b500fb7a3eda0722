"""Scheduled: the service scenarios' sweep. Hospital bookings whose window closed unused are released as
no-shows (S12); overdue hotline tickets escalate and unconfirmed closures time out (S8)."""

from __future__ import annotations

from dataclasses import asdict

from shared.bootstrap import services
from shared.observability import flush


def handler(event: dict, context) -> dict:
    s = services()
    report = {"hospital": asdict(s.hospital.release_no_shows()), "hotline": asdict(s.hotline.sweep())}
    flush()
    return report
