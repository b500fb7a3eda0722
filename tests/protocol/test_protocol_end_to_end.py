"""The published contract against the running API (embedded local stack from tests/conftest.py):
real responses must validate against ack-response.schema.json, and a cn_common push must flow through
``/v1/lot-systems/cn_common/events`` with vendor resends acknowledged as duplicates."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

from jsonschema import Draft202012Validator

from shared.clock import SHANGHAI
from tools import gen_schemas

SAMPLES = Path(__file__).resolve().parents[2] / "events" / "samples"
CN = "/v1/lot-systems/cn_common/events"
_ACKS = Draft202012Validator(gen_schemas.schemas()["ack-response"], format_checker=Draft202012Validator.FORMAT_CHECKER)


def _published(body: dict) -> list[dict]:
    errors = [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in _ACKS.iter_errors({"acks": body["acks"]})]
    assert errors == [], errors
    return body["acks"]


def _vendor(name: str) -> dict:
    return json.loads((SAMPLES / "lot_systems" / "cn_common" / name).read_text(encoding="utf-8"))


def test_cn_common_push_entry_resend_and_exit(device, clock):
    lot_system = device("lx-lotsys")  # the lot's own system, bound to lx-nanchang-st-01
    status, body = lot_system.post(_vendor("car_in--batch.json"), path=CN)
    assert status == 200
    assert [a["status"] for a in _published(body)] == ["accepted"] * 3

    status, body = lot_system.post(_vendor("car_in--batch.json"), path=CN)  # the vendor resends
    assert status == 200
    assert [a["status"] for a in _published(body)] == ["duplicate"] * 3

    clock.set(datetime(2026, 11, 23, 17, 45, tzinfo=SHANGHAI))  # the exit sample is at 17:44:12
    status, body = lot_system.post(_vendor("car_out--etc.json"), path=CN)
    assert status == 200
    (ack,) = _published(body)
    assert ack["status"] == "accepted" and ack["match"] == "exact"
    assert ack["gate"] == {"decision": "open", "amount_fen": 0, "reason": "no_tariff"}


def test_cn_common_occupancy_and_bad_record(device):
    lot_system = device("lx-lotsys")
    push = _vendor("space_info.json")
    push.update(total_space=100, remain_space="41")  # the test city's lot has 100 spaces
    status, body = lot_system.post(push, path=CN)
    assert status == 200
    assert _published(body)[0]["status"] == "accepted"

    push = _vendor("car_in.json")
    push["data"]["plate"] = "无牌车"
    status, body = lot_system.post(push, path=CN)
    assert status == 200
    assert _published(body)[0] == {
        "event_id": "cn-car_in-20261123080102000117", "status": "rejected", "reason": "malformed_plate",
        "message": body["acks"][0]["message"], "flags": [],
    }  # fmt: skip


def test_cn_common_refusals(device):
    lot_system = device("lx-lotsys")
    status, body = lot_system.post({"service_name": "pay_notify", "data": {}}, path=CN)
    assert (status, body["code"]) == (400, "adapter_payload_invalid")
    status, body = lot_system.post(_vendor("car_in.json"), path="/v1/lot-systems/nope/events")
    assert (status, body["code"]) == (404, "unknown_adapter")


def test_device_event_samples_get_published_acks(device):
    camera = device("lx-in1")
    status, body = camera.post(json.loads((SAMPLES / "v1" / "event-batch.json").read_text(encoding="utf-8")))
    assert status == 200
    assert len(_published(body)) == 5
    status, body = camera.post(json.loads((SAMPLES / "invalid" / "entry--malformed-plate.json").read_text("utf-8")))
    assert status == 400 and body["code"] == "malformed_plate"
    _published(body)


def test_ack_without_readable_event_id_matches_the_published_schema(device):
    status, body = device("lx-in1").post({"events": [1]})
    assert status == 200
    _published(body)
