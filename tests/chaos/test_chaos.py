"""The seeded chaos scenario (tests/chaos/scenario.py) at a moderate size; bench/bench_chaos.py runs it larger.

The shuffled and duplicated events run on memory stores (the conditional writes they lean on have their
contracts on both stores; the same chaos on DynamoDB, over HTTP, is tests/chaos/test_chaos_http.py); the
crashing workflow tasks run on the stack, under the ASL interpreter."""

from __future__ import annotations

from shared.tariffs.samples import ZHUMADIAN_CLASS1
from tests.chaos import scenario
from tests.support import price_lot


def test_shuffled_duplicated_events_and_double_payments_lose_and_double_nothing(platform, api, clock, city, device):
    price_lot(platform.services, scenario.LOT, ZHUMADIAN_CLASS1)
    outcome = scenario.run(platform, api, clock, device, n=40, seed=15)
    assert outcome.exits_before_entries > 5 and outcome.double_paid > 5  # the chaos really happened
    assert outcome.problems == []


def test_task_handlers_and_callbacks_crashing_after_their_side_effects_lose_and_double_nothing(stack, api, clock, city, device):
    price_lot(stack.services, scenario.LOT, ZHUMADIAN_CLASS1)
    outcome = scenario.run_pay_later(stack, api, clock, device, citizens=4, seed=15, crash_rate=0.5)
    assert outcome.arrears_cases == 2 and sum(outcome.task_crashes.values()) >= 3 and outcome.callback_crashes >= 1, outcome
    assert outcome.problems == []
