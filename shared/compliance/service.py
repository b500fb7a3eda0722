"""Evaluates every lot's checklist from the registry and live status (S14); district staff see their district."""

from __future__ import annotations

from collections.abc import Callable

from shared.auth import Principal
from shared.clock import Clock, iso
from shared.compliance import model


class ComplianceService:
    def __init__(self, facts: Callable[[], list[model.LotFacts]], clock: Clock,
                 hotline: Callable[[Principal, str | None], dict] | None = None) -> None:  # fmt: skip
        """``facts()``: the checklist inputs of every registered lot (wired in the composition root);
        ``hotline(principal, district)``: the hotline's ticket figures per district and operator (S8), shown
        beside the checklist so supervision sees service quality with compliance."""
        self._facts, self._clock, self._hotline = facts, clock, hotline

    def report(self, principal: Principal, district: str | None = None) -> dict:
        district = district or (None if principal.is_city else principal.district_code)
        if district is not None:
            principal.require_read(district)
        elif not principal.is_city:
            principal.require_read("")  # raises: only city staff see the whole city
        results = [model.evaluate(f) for f in self._facts() if district in (None, f.district_code)]
        report = {"as_of": iso(self._clock.now()), "district": district, **model.rates(results)}
        if self._hotline is not None:
            figures = self._hotline(principal, district)
            report["hotline"] = {k: [s.model_dump(mode="json") for s in v] for k, v in figures.items()}
        return report

    def snapshot(self) -> dict:
        """The whole city's checklist results now: what the daily schedule stores (``SignalService``)."""
        return {"as_of": iso(self._clock.now()), "district": None,
                **model.rates(model.evaluate(f) for f in self._facts())}
