"""The chaos over HTTP (tools/chaos_http.py) against ``make run`` started in a scratch directory on free
ports (the session's ``make_run``), with the sandbox's delivery faults (duplicated callbacks, newest first)
set in its environment:
signed device events delivered 1-3 times and shuffled, bills paid through two channels at once and
approved on the payment app, callbacks delivered by the stack's own loop. Small and seeded; a larger run's
figures are in bench/results/chaos_http.json."""

from __future__ import annotations

import json

import pytest

from tools import chaos_http


@pytest.fixture
def faulty_stack(make_run):
    assert make_run.extra_env.get("TONGTING_SANDBOX_FAULTS") == "duplicates=1,reverse_order=1"
    return make_run


def test_chaos_over_http_against_the_running_stack(faulty_stack):
    local = faulty_stack.workdir / ".local"
    http = chaos_http.Http(faulty_stack.api, faulty_stack.pay_app, (local / "admin-token").read_text().strip())
    result = chaos_http.run(http, json.loads((local / "devices.json").read_text()), stays=15, seed=15, settle_s=90)
    assert result["exits_before_entries"] >= 3 and result["double_paid_bills"] >= 3, result  # the chaos happened
    assert result["refunded_bills"] == result["double_paid_bills"], result  # every overpayment refunded
    assert result["problems"] == [], result["problems"]
    assert not [s for s in result["statuses"] if s.startswith("5")]
