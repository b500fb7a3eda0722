"""Logs and metrics: plates never reach a log line; counts are published as EMF when enabled."""

import json

from shared.observability import logger
from tests.support import gate_event


def test_logs_mask_plates_and_metrics_count_accepted_events(device, clock, capsys, caplog, monkeypatch):
    monkeypatch.setenv("POWERTOOLS_METRICS_DISABLED", "false")
    level = logger.log_level
    logger.setLevel("INFO")
    try:
        device("lx-in1").post(gate_event("entry", "苏B12345", clock.now()))
        device("lx-in1").post(gate_event("entry", "苏B1", clock.now()))  # rejected: logged as refused
    finally:
        logger.setLevel(level)
    logged = [json.loads(logger.registered_formatter.format(r)) for r in caplog.records if r.name == "tongting"]
    assert logged and "12345" not in json.dumps(logged, ensure_ascii=False)
    accepted = next(line for line in logged if line["message"] == "event accepted")
    assert accepted["event"]["plate"] == "*****"
    out = capsys.readouterr().out
    emf = [json.loads(line) for line in out.splitlines() if line.startswith('{"_aws"')]
    assert any(line.get("Events_entry_accepted") == [1.0] for line in emf)
    assert any(line.get("Events_rejected") == [1.0] for line in emf)


def test_disabled_metrics_are_not_kept(device, clock):
    from shared.observability import metrics

    for n in range(3):
        device("lx-in1").post(gate_event("entry", f"苏B0000{n}", clock.now()))
    assert not metrics.metric_set
