"""Evaluates every lot's checklist from the registry and live status (S14); district staff see their district."""

from __future__ import annotations

from collections.abc import Callable

from shared.auth import Principal
from shared.clock import Clock, iso
from shared.compliance import model


class ComplianceService:
    def __init__(self, facts: Callable[[], list[model.LotFacts]], clock: Clock) -> None:
        """``facts()``: the checklist inputs of every registered lot (wired in the composition root)."""
        self._facts, self._clock = facts, clock

    def report(self, principal: Principal, district: str | None = None) -> dict:
        district = district or (None if principal.is_city else principal.district_code)
        if district is not None:
            principal.require_read(district)
        elif not principal.is_city:
            principal.require_read("")  # raises: only city staff see the whole city
        results = [model.evaluate(f) for f in self._facts() if district in (None, f.district_code)]
        return {"as_of": iso(self._clock.now()), "district": district, **model.rates(results)}

    def snapshot(self) -> dict:
        """The whole city's checklist results now: what the daily schedule stores (``SignalService``)."""
        return {"as_of": iso(self._clock.now()), "district": None,
                **model.rates(model.evaluate(f) for f in self._facts())}
