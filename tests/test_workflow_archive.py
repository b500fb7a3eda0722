"""The review workflow (real ASL under moto's interpreter, time moved by the test), the archive,
scheduled liveness and the OpenAPI document."""

import json
import time

from functions.api.app import app
from infra.local import lambda_dispatch
from shared import resources
from shared.adapters.archive_bucket import ArchiveBucket
from shared.archive.writer import read_archive
from tests.support import CITY_ADMIN, gate_event


def _wait_for_sleepers(clock, n=1, timeout=10.0):
    deadline = time.monotonic() + timeout
    while clock.sleepers < n:
        assert time.monotonic() < deadline, "workflow never reached its Wait state"
        time.sleep(0.01)


def _run_to_end(stack, clock, arn, step_s=60, timeout=10.0):
    """Move time forward whenever the workflow sleeps (Wait or Retry) until it finishes."""
    deadline = time.monotonic() + timeout
    while (out := stack.wait_execution(arn, timeout_s=0.05))["status"] == "RUNNING":
        assert time.monotonic() < deadline, "workflow did not finish"
        if clock.sleepers:
            clock.advance(step_s)
    return out


def _only_execution(stack):
    executions = stack.executions("unmatched-exit-review")
    assert len(executions) == 1
    return executions[0]["executionArn"]


def test_unmatched_exit_goes_to_review_after_the_window(device, clock, stack):
    ack = device("lx-out1").post(gate_event("exit", "苏B54321", clock.now()))[1]["acks"][0]
    arn = _only_execution(stack)
    _wait_for_sleepers(clock)
    clock.advance(899)
    time.sleep(0.05)
    assert stack.services.sessions.view(CITY_ADMIN, ack["session_id"]).status.value == "awaiting_entry"
    clock.advance(1)
    result = stack.wait_execution(arn)
    assert result["status"] == "SUCCEEDED", result
    assert json.loads(result["output"])["review"]["outcome"] == "flagged"
    assert stack.services.sessions.view(CITY_ADMIN, ack["session_id"]).status.value == "needs_review"


def test_late_entry_inside_the_window_means_no_review(device, clock, stack):
    t_exit = clock.now()
    ack = device("lx-out1").post(gate_event("exit", "苏B54321", t_exit))[1]["acks"][0]
    device("lx-in1").post(gate_event("entry", "苏B54321", t_exit.replace(hour=t_exit.hour - 1)))
    _wait_for_sleepers(clock)
    clock.advance(900)
    result = stack.wait_execution(_only_execution(stack))
    assert json.loads(result["output"])["review"]["outcome"] == "reconciled"
    assert stack.services.sessions.view(CITY_ADMIN, ack["session_id"]).status.value == "closed"


def test_resent_exit_starts_no_second_workflow(device, clock, stack):
    event = gate_event("exit", "苏B54321", clock.now())
    device("lx-out1").post(event)
    device("lx-out1").post(event)
    assert len(stack.executions("unmatched-exit-review")) == 1


def test_review_task_crash_is_retried_by_the_asl(device, clock, stack):
    name = resources.function("session-review").name
    real, calls = lambda_dispatch.handler_for(name)[0], []

    def crash_once(event, context):
        calls.append(event)
        if len(calls) == 1:
            raise RuntimeError("simulated crash before the write")
        return real(event, context)

    lambda_dispatch.override(name, crash_once)
    try:
        ack = device("lx-out1").post(gate_event("exit", "苏B54321", clock.now()))[1]["acks"][0]
        result = _run_to_end(stack, clock, _only_execution(stack))
    finally:
        lambda_dispatch.override(name, None)
    assert result["status"] == "SUCCEEDED" and len(calls) == 2
    assert stack.services.sessions.view(CITY_ADMIN, ack["session_id"]).status.value == "needs_review"


def test_archive_holds_every_accepted_event_exactly_once(device, clock, stack):
    cam, out = device("lx-in1"), device("lx-out1")
    plates = [f"B{n:05d}" for n in range(30)]
    for p in plates:
        assert cam.post(gate_event("entry", "苏" + p, clock.now(), event_id=f"in-{p}"))[0] == 200
    assert cam.post(gate_event("entry", "苏" + plates[0], clock.now(), event_id=f"in-{plates[0]}"))[1]["acks"][0]["status"] == "duplicate"
    cam.post(gate_event("entry", "bad", clock.now()))  # rejected: not archived
    clock.advance(minutes=30)
    out.post({"events": [gate_event("exit", "苏" + p, clock.now(), event_id=f"out-{p}") for p in plates]})
    device("zs-robot").post({"event_id": "hb-1", "type": "heartbeat", "lot_id": "lx-zhongshan-rd", "occurred_at": clock.now().isoformat()})
    stack.pump_streams()
    stack.pump_streams()  # nothing new: re-pumping writes nothing twice
    records = read_archive(ArchiveBucket())
    ids = sorted(r["event"]["event_id"] for r in records)
    assert ids == sorted([f"in-{p}" for p in plates] + [f"out-{p}" for p in plates] + ["hb-1"])
    keys = list(ArchiveBucket().keys("events/"))  # log/ beside it holds the transparency log (tests/audit)
    assert all(k.startswith("events/date=2026-11-23/district=320213/lot=") and k.endswith(".jsonl") for k in keys)
    assert len(keys) < len(ids)  # batched, not an object per event


def test_archive_writer_redelivery_with_another_batch_cut_duplicates_nothing(device, clock, memory):
    """The writer's rule on memory stores (the stream and S3 path is the test above)."""
    from shared.archive.writer import ArchivedEvent

    cam = device("lx-in1")
    for n in range(6):
        cam.post(gate_event("entry", f"苏B{n:05d}", clock.now(), event_id=f"e{n}"))
    events = [ArchivedEvent.from_image(image) for image in memory.stores.acks.items.values()]
    writer = memory.services.archive
    first = writer.write(events[:4])  # a first delivery...
    writer.write(events[2:])  # ...redelivered, cut differently, overlapping
    assert writer.write(events) and set(first) <= set(memory.stores.archive.keys())
    ids = sorted(r["event"]["event_id"] for r in read_archive(memory.stores.archive))
    assert ids == [f"e{n}" for n in range(6)]


def test_liveness_schedule_marks_silent_lots_offline(device, clock, stack):
    device("lx-in1").post({"event_id": "hb", "type": "heartbeat", "lot_id": "lx-nanchang-st-01", "occurred_at": clock.now().isoformat()})
    stack.pump_streams()  # the device's last-seen, recorded from the acks stream
    clock.advance(minutes=5)
    fired = stack.run_due_schedules()
    report = json.loads(fired["lot-liveness-check"])
    assert "lx-nanchang-st-01" not in report["offline"] and "xw-taihu-plaza" in report["offline"]
    clock.advance(minutes=11)
    report = json.loads(stack.run_due_schedules()["lot-liveness-check"])
    assert "lx-nanchang-st-01" in report["went_offline"]
    assert stack.services.availability.lot("lx-nanchang-st-01").online is False


def test_nearby_lots_nearest_first_without_personal_data(api, device, clock):
    device("lx-in1").post(gate_event("entry", "苏B12345", clock.now()))
    resp = api.get("/v1/lots?lat=31.5590&lon=120.3017&radius_m=5000")
    lots = json.loads(resp.body)["lots"]
    assert [lot["lot_id"] for lot in lots] == ["lx-nanchang-st-01", "lx-zhongshan-rd"]
    assert lots[0]["distance_m"] < lots[1]["distance_m"] and lots[0]["free"] == 99
    assert "苏B" not in resp.body.decode()
    bad = api.get("/v1/lots?lat=91&lon=120&radius_m=100")
    assert bad.status_code == 400 and json.loads(bad.body)["code"] == "bad_coordinates"
    assert api.get("/v1/lots/nope").status_code == 404


def test_openapi_documents_every_route(api):
    doc = json.loads(api.get("/openapi.json").body)
    for path, methods in app.routes.items():
        for method in methods:
            assert method.lower() in doc["paths"][path]
    assert "EventBatch" in doc["components"]["schemas"]
