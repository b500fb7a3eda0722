"""Scheduled on 2 January and 2 July: the platform service fee of the half year just ended (S10).

``event["half"]`` (``2026H1``) bills another half; a half already billed is never billed again. Then the
districts' share of the half's fees is posted (S15, ``shared.settlement.returns``), also once.
"""

from __future__ import annotations

from datetime import timedelta

from shared.bootstrap import services
from shared.clock import SHANGHAI
from shared.observability import flush, logger


def last_half(today) -> str:
    ended = today.replace(day=1) - timedelta(days=1)  # a day of the half that just ended
    return f"{ended.year}H{1 if ended.month <= 6 else 2}"


def handler(event: dict, context) -> dict:
    try:
        svc = services()
        half = (event or {}).get("half") or last_half(svc.clock.now().astimezone(SHANGHAI).date())
        summary = svc.platform_fee.bill_half(half)
        summary["district_returns"] = svc.district_returns.share_half(half, summary)  # S15, once fees are billed
        logger.info("platform fee billed", extra={"summary": summary})
        return summary
    finally:
        flush()
