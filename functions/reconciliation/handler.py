"""Scheduled daily (02:00 Asia/Shanghai): reconcile the previous local day with every payment provider.

``event["day"]`` (YYYY-MM-DD) reconciles another day, e.g. when staff re-run one; a re-run changes nothing
that the first run already did.
"""

from __future__ import annotations

from datetime import date

from shared.bootstrap import services
from shared.observability import flush, logger


def handler(event: dict, context) -> dict:
    try:
        svc = services()
        day = date.fromisoformat(event["day"]) if (event or {}).get("day") else None
        summary = svc.reconciliation.run(day)
        logger.info("reconciliation done", extra={"summary": summary})
        return summary
    finally:
        flush()
