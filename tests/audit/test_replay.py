"""``tongting replay`` after traffic on the local stack: the archive's device events, replayed through the
live planner and tariff engine, reproduce every session's charge in the ledger to the fen; a deleted
ledger posting shows as one difference naming its session; a doctored archive fails verification."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from shared import resources
from shared.adapters.aws import client
from shared.adapters.dynamo.ledger import HEADER, LedgerItem, posting_key
from shared.adapters.log_tiles import log_signer
from shared.tariffs.samples import ZHUMADIAN_CLASS1
from tests.support import gate_event, price_lot
from tools.tongting import main

LOT = "lx-nanchang-st-01"


@pytest.fixture
def traffic(stack, city, device, clock):
    price_lot(stack.services, LOT, ZHUMADIAN_CLASS1)
    cam_in, cam_out = device("lx-in1"), device("lx-out1")
    for i in range(8):  # staggered stays of 20 minutes to about 9 hours
        plate = f"苏B{i:05d}"
        assert cam_in.post(gate_event("entry", plate, clock.now(), event_id=f"in-{i}"))[0] == 200
        clock.advance(minutes=7)
    cam_in.post(gate_event("entry", "苏B00001", clock.now() - timedelta(minutes=49), event_id="in-1"))  # a retry
    clock.advance(hours=1)
    for i in range(8):
        clock.advance(minutes=20 + 61 * i)
        status, body = cam_out.post(gate_event("exit", f"苏B{i:05d}", clock.now(), event_id=f"out-{i}"))
        assert status == 200, body
    # Out of order: the exit arrives before its entry (reconciled when the entry comes).
    exit_at = clock.now()
    cam_out.post(gate_event("exit", "苏B09999", exit_at, event_id="out-late"))
    clock.advance(seconds=2)  # replay orders by accepted_at: events accepted in the same microsecond tie
    cam_in.post(gate_event("entry", "苏B09999", exit_at - timedelta(hours=3), event_id="in-late"))
    stack.pump_streams()
    return stack


def _run(tmp_path, *extra):
    report = tmp_path / "replay.json"
    code = main(["replay", "--archive", f"s3://{resources.EVENT_ARCHIVE.name}", "--registry", "dynamo",
                 "--ledger", "dynamo", "--json", str(report), "--markdown", str(tmp_path / "replay.md"),
                 "--quiet", *extra])  # fmt: skip
    return code, json.loads(report.read_text()) if report.exists() else None


def test_replay_reproduces_the_ledger_to_the_fen(traffic, tmp_path):
    code, doc = _run(tmp_path, "--key", log_signer().verifier_key())
    assert doc["verification"]["ok"]
    assert doc["summary"]["differences"] == 0 and doc["summary"]["difference_fen"] == 0, json.dumps(doc["differences"])
    assert doc["summary"]["sessions_charged"] >= 8
    assert doc["summary"]["replayed_fen"] == doc["summary"]["ledger_fen"] > 0
    assert code == 0
    md = (tmp_path / "replay.md").read_text()
    assert "0 differences" in md and (tmp_path / "replay.svg").read_text().startswith("<svg")


def test_a_deleted_posting_is_one_difference_naming_its_session(traffic, tmp_path):
    charge = next(p for p in traffic.services.ledger.scan_postings() if p.kind.value == "charge")
    LedgerItem(pk=posting_key(charge.posting_id), sk=HEADER).delete()
    code, doc = _run(tmp_path)
    assert code == 1
    assert [d["session_id"] for d in doc["differences"]] == [charge.refs["session_id"]]
    d = doc["differences"][0]
    assert d["replayed_fen"] == charge.amount_fen and d["ledger_fen"] == 0 and len(d["events"]) == 2


def test_a_doctored_archive_fails_verification(traffic, tmp_path):
    s3 = client("s3")
    bucket = resources.EVENT_ARCHIVE.name
    key = next(o["Key"] for o in s3.list_objects_v2(Bucket=bucket, Prefix="events/")["Contents"])
    body = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
    s3.put_object(Bucket=bucket, Key=key, Body=body.replace(b"2026", b"2025", 1))
    code, doc = _run(tmp_path, "--key", log_signer().verifier_key())
    assert code == 2 and doc is None
