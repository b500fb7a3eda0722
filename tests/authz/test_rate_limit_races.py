"""Racing requests against the plate-code rate limits (issue 15): the counters are conditional writes, so
requests that read the same counters at the same moment cannot all pass a limit.

Each racing request's first write waits at a barrier until every racer has read the counters: the widest
window a real race can have. Before the counters were versioned, every racer passed."""

from __future__ import annotations

import threading

import pytest

from shared import bootstrap
from shared.auth import Principal, Role
from shared.citizens.service import MAX_CODE_ATTEMPTS, SENDS_PER_PLATE
from shared.errors import InvalidInput, TooManyRequests

PLATE = "苏B12345"


class RacingAccounts:
    """The account store, with each thread's first write held until ``racers`` threads have read."""

    def __init__(self, inner, racers: int) -> None:
        self._inner, self._barrier, self._local = inner, threading.Barrier(racers, timeout=10), threading.local()
        self.armed = False  # set when the race starts: the set-up writes are not held

    def __getattr__(self, name):
        method = getattr(self._inner, name)
        if not (name.startswith("put_") or name.startswith("save_challenge")):
            return method

        def held(*args, **kwargs):
            if self.armed and not getattr(self._local, "waited", False):
                self._local.waited = True
                self._barrier.wait()
            return method(*args, **kwargs)

        return held


def _race(services, racers: int, attempt) -> list[object]:
    services.stores.accounts.armed = True
    outcomes: list[object] = [None] * racers

    def run(n: int) -> None:
        try:
            outcomes[n] = attempt(n)
        except Exception as exc:  # the outcome under test (429, wrong code) or a failure to report
            outcomes[n] = exc

    threads = [threading.Thread(target=run, args=(n,)) for n in range(racers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    return outcomes


@pytest.fixture
def citizens(clock):
    def build(racers: int):
        stores = bootstrap.memory_stores()
        stores.accounts = RacingAccounts(stores.accounts, racers)
        return bootstrap.build(clock, stores=stores)

    return build


def citizen(name: str) -> Principal:
    return Principal(subject=name, role=Role.CITIZEN)


def test_racing_code_requests_for_one_plate_send_at_most_the_per_plate_limit(citizens):
    racers = SENDS_PER_PLATE + 3
    services = citizens(racers)
    for n in range(racers):
        services.citizens.open(citizen(f"racer-{n}"), consent=True)
    sent: list[str] = []
    services.citizens._verifier.send_code = lambda plate, code: sent.append(code)  # count the texts
    outcomes = _race(services, racers, lambda n: services.citizens.add_plate(citizen(f"racer-{n}"), PLATE))
    assert sum(isinstance(o, dict) for o in outcomes) == SENDS_PER_PLATE, outcomes
    assert sum(isinstance(o, TooManyRequests) for o in outcomes) == racers - SENDS_PER_PLATE, outcomes
    assert len(sent) == SENDS_PER_PLATE


def test_racing_guesses_cannot_share_the_last_attempt(citizens):
    racers = 4
    services = citizens(racers)
    me = citizen("guesser")
    services.citizens.open(me, consent=True)
    services.citizens.add_plate(me, PLATE)
    for _ in range(MAX_CODE_ATTEMPTS - 1):
        with pytest.raises(InvalidInput):
            services.citizens.verify_plate(me, PLATE, "wrong!")
    outcomes = _race(services, racers, lambda n: services.citizens.verify_plate(me, PLATE, f"guess{n}"))
    assert sum(isinstance(o, InvalidInput) for o in outcomes) == 1, outcomes  # one guess judged, as wrong
    assert sum(isinstance(o, TooManyRequests) for o in outcomes) == racers - 1, outcomes
