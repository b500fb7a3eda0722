"""The seeded chaos scenario (tests/chaos/scenario.py) at a moderate size; bench/bench_chaos.py runs it larger."""

from __future__ import annotations

from shared.tariffs.samples import ZHUMADIAN_CLASS1
from tests.chaos import scenario
from tests.support import price_lot


def test_shuffled_duplicated_events_and_double_payments_lose_and_double_nothing(stack, api, clock, city, device):
    price_lot(stack.services, scenario.LOT, ZHUMADIAN_CLASS1)
    outcome = scenario.run(stack, api, clock, device, n=40, seed=15)
    assert outcome.exits_before_entries > 5 and outcome.double_paid > 5  # the chaos really happened
    assert outcome.problems == []
