"""Scheduled daily (03:30 Asia/Shanghai, after reconciliation): each operator's statement of yesterday.

``event["day"]`` (YYYY-MM-DD) settles another day (staff re-running one); a day already settled returns
the statements as issued.
"""

from __future__ import annotations

from datetime import date

from shared.bootstrap import services
from shared.observability import flush, logger


def handler(event: dict, context) -> dict:
    try:
        day = (event or {}).get("day") or ((event or {}).get("detail") or {}).get("day")
        settlement = services().settlement
        summary = settlement.settle(date.fromisoformat(day) if day else None)
        # Per operator, the providers' reconciliation findings its statement of the day carries (issue 11)
        summary["reconciliation_disagreements"] = settlement.disagreements(summary["day"])
        logger.info("settlement done", extra={"summary": summary})
        return summary
    finally:
        flush()
