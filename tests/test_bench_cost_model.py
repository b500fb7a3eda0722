"""bench_cost's Lambda duration model: the formula, the latency table, the memory it reads, and the CPU
accounting that charges an invocation with its own code only (not AWS's side, not the meters')."""

from __future__ import annotations

import time
from decimal import Decimal

from bench import bench_cost as bc
from infra.cdk.stages import stage_config


def test_memory_is_each_functions_deployed_setting():
    from infra.cdk import derive
    from shared import resources

    prod = stage_config("prod", {})
    for f in resources.FUNCTIONS:
        assert bc.lambda_memory_mb(f.logical) == derive.memory_mb(f, prod) == (f.memory_mb or prod.function_memory_mb)
    assert bc.Memory()("api") == resources.function("api").memory_mb  # the API function has its own (issue 10)
    assert bc.Memory(1024)("api") == bc.Memory(1024)("archive-writer") == 1024  # --memory-mb: every function


def test_each_invocation_is_billed_at_its_own_functions_memory():
    records = [{"label": "GET /x", "function": "api", "cpu_s": 0.0, "calls": ["GetItem(t)"], "external": []},
               {"label": "task archive-writer", "function": "archive-writer", "cpu_s": 0.0,
                "calls": ["GetItem(t)"], "external": []}]
    model = bc.duration_model(records, 1, bc.Memory())
    api_mb, writer_mb = bc.lambda_memory_mb("api"), bc.lambda_memory_mb("archive-writer")
    assert model["memory_mb_by_function"] == {"api": api_mb, "archive-writer": writer_mb}
    # 10 ms each, at each function's memory
    assert Decimal(model["gb_s_per_session"]) == (Decimal(api_mb) + Decimal(writer_mb)) / 1024 * Decimal("0.01")


def test_round_trip_latency_by_call():
    assert bc.round_trip_ms("GetItem(local-bills)") == 10
    assert bc.round_trip_ms("TransactWriteItems(local-sessions,local-bills)") == 30
    assert bc.round_trip_ms("kms:Decrypt") == 15
    assert bc.round_trip_ms("provider:sandbox.create_payment") == 300
    assert bc.round_trip_ms("events:PutEvents") == bc.OTHER_ROUND_TRIP_MS


def test_billed_ms_scales_cpu_by_memory_and_rounds_up():
    calls = ["BatchGetItem(local-devices)", "TransactWriteItems(local-sessions)"]
    # 2 ms of local CPU at 1769 MB (one vCPU): 2 + 10 + 30
    assert bc.billed_ms(2.0, calls, 1769) == 42
    # at 512 MB the CPU share is 512/1769: 2 x 3.455 = 6.91 -> 46.91 -> 47
    assert bc.billed_ms(2.0, calls, 512) == 47
    # more than one vCPU does not speed up a single thread
    assert bc.billed_ms(2.0, calls, 3538) == 42
    assert bc.billed_ms(0.0, [], 512) == 1  # at least the 1 ms granule


def test_cost_uses_the_model_and_keeps_the_flat_assumption_beside_it():
    c = bc.cost(Decimal(5), Decimal(5), Decimal(0), Decimal(0), Decimal(0), Decimal(0),
                gb_s=bc.gb_seconds(600, 512))["usd_per_million_sessions_exact"]
    # 0.6 s x 0.5 GB x $0.0000166667 x 1e6
    assert Decimal(c["lambda_duration"]) == Decimal("0.6") * Decimal("0.5") * Decimal("0.0000166667") * 1_000_000
    # the old 100 ms per invocation at 512 MB: 5 x 0.1 s x 0.5 GB
    assert Decimal(c["lambda_duration_flat"]) == Decimal("0.25") * Decimal("0.0000166667") * 1_000_000
    assert Decimal(c["total_with_flat_lambda_duration"]) - Decimal(c["total"]) == (
        Decimal(c["lambda_duration_flat"]) - Decimal(c["lambda_duration"]))


def _spin(seconds: float) -> None:
    end = time.thread_time() + seconds
    while time.thread_time() < end:
        pass


def test_cpu_is_charged_to_the_invocation_not_to_aws_or_the_meters():
    frame = {"label": "x", "cpu_s": 0.0}
    with bc._charging(frame, True):
        _spin(0.02)  # the handler's own work
        with bc._charging(bc._owner(), False):  # the meters and moto's answer
            _spin(0.05)
            with bc._charging(bc._owner(), True):  # botocore's client side, under the meters
                _spin(0.01)
        child = {"label": "y", "cpu_s": 0.0}
        with bc._charging(child, True):  # a nested invocation is charged to itself
            _spin(0.02)
    assert 0.029 <= frame["cpu_s"] < 0.045
    assert 0.019 <= child["cpu_s"] < 0.035
