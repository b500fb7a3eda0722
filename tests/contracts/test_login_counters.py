"""The sign-in limits' counters (``shared.citizens.ports.LoginCounters``) on both adapters."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor


def test_a_counter_takes_up_to_its_limit_and_no_further(stores, uid):
    counters = stores.login_counters
    assert counters.count(f"k-{uid}") == 0
    assert [counters.take(f"k-{uid}", 3, 2_000_000_000) for _ in range(5)] == [True, True, True, False, False]
    assert counters.count(f"k-{uid}") == 3


def test_giving_back_frees_one_try_and_never_goes_below_zero(stores, uid):
    counters = stores.login_counters
    counters.give_back(f"g-{uid}")  # nothing to give back: no counter appears, none goes negative
    assert counters.count(f"g-{uid}") == 0
    assert counters.take(f"g-{uid}", 1, 2_000_000_000) and not counters.take(f"g-{uid}", 1, 2_000_000_000)
    counters.give_back(f"g-{uid}")
    counters.give_back(f"g-{uid}")
    assert counters.count(f"g-{uid}") == 0
    assert counters.take(f"g-{uid}", 1, 2_000_000_000)


def test_concurrent_takes_never_pass_the_limit(stores, uid):
    counters = stores.login_counters
    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(lambda _: counters.take(f"c-{uid}", 5, 2_000_000_000), range(24)))
    assert results.count(True) == 5 and counters.count(f"c-{uid}") == 5
