"""The platform service fee's configuration: rates with their effective dates (S10).

``TONGTING_PLATFORM_FEE_RATES`` is JSON, e.g. ``[{"effective_from": "2026-01-01", "basis_points": 300}]``
(300 bp = 3 %); a new rate is a new entry, never an edit of an old one, so past halves keep their rate."""

from __future__ import annotations

import json
import os

from pydantic import TypeAdapter

from shared.settlement.model import FeeRate

DEFAULT_RATES = '[{"effective_from": "2026-01-01", "basis_points": 300}]'


def fee_rates(raw: str | None = None) -> list[FeeRate]:
    return TypeAdapter(list[FeeRate]).validate_python(json.loads(raw or os.environ.get("TONGTING_PLATFORM_FEE_RATES", DEFAULT_RATES)))
