"""The lot-system adapter seam and the cn_common vendor format."""

from __future__ import annotations

import copy
import json
from datetime import datetime
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import TypeAdapter

from shared.clock import SHANGHAI
from shared.errors import InvalidInput, NotFound
from shared.protocol import lot_systems
from shared.protocol.events import DeviceEvent
from shared.protocol.lot_systems.base import LotSystemAdapter
from shared.protocol.lot_systems.cn_common import PLATE_COLOURS, CnCommonAdapter

VENDOR_SAMPLES = Path(__file__).resolve().parents[2] / "events" / "samples" / "lot_systems" / "cn_common"
PUSHES = sorted(p for p in VENDOR_SAMPLES.glob("*.json") if not p.name.endswith(".v1.json"))
LOT = "lx-nanchang-st-01"
_EVENT = TypeAdapter(DeviceEvent)
adapter = CnCommonAdapter()


def _car_in(**record) -> dict:
    base = {
        "order_id": "20261123080102000117",
        "plate": "苏B12345",
        "plate_color": "蓝",
        "in_time": "2026-11-23 08:01:02",
        "in_channel": "东门入口1",
    }
    return {"service_name": "car_in", "park_uuid": "P3202130007", "data": {**base, **record}}


def _one(payload: dict, lot_id: str = LOT) -> dict:
    events = adapter.to_events(payload, lot_id=lot_id)
    assert len(events) == 1
    _EVENT.validate_python(events[0])
    return events[0]


# --- registry ---


def test_registry_resolves_cn_common():
    assert lot_systems.get("cn_common") is lot_systems.ADAPTERS["cn_common"]
    assert isinstance(lot_systems.get("cn_common"), LotSystemAdapter)


@pytest.mark.parametrize("name", ["nope", "", "CN_COMMON"])
def test_unknown_adapter_is_not_found(name):
    with pytest.raises(NotFound) as caught:
        lot_systems.get(name)
    assert caught.value.code == "unknown_adapter"


# --- golden vendor samples (events/samples/lot_systems/cn_common) ---


@pytest.mark.parametrize("push", PUSHES, ids=lambda p: p.name)
def test_vendor_sample_maps_to_its_golden_v1_events(push):
    expected = json.loads(push.with_name(push.stem + ".v1.json").read_text(encoding="utf-8"))
    events = adapter.to_events(json.loads(push.read_text(encoding="utf-8")), lot_id=expected[0]["lot_id"])
    assert events == expected
    for event in events:
        _EVENT.validate_python(event)


def test_every_service_has_a_golden_sample():
    from shared.protocol.lot_systems.cn_common import SERVICES

    assert {p.stem.split("--")[0] for p in PUSHES} == set(SERVICES)


# --- each service ---


def test_car_in_is_an_entry():
    event = _one(_car_in(plate="苏b·12345", car_type=1, confidence=96, img_url="https://img.example/1.jpg"))
    assert event == {
        "type": "entry",
        "event_id": "cn-car_in-20261123080102000117",
        "lot_id": LOT,
        "occurred_at": "2026-11-23T08:01:02+08:00",
        "plate": "苏B12345",
        "plate_colour": "blue",
        "vehicle_class": "small",
        "confidence": 0.96,
        "evidence_ref": "https://img.example/1.jpg",
        "lane": "东门入口1",
    }


def test_car_out_is_an_exit_with_etc():
    payload = {
        "service_name": "car_out",
        "data": {"order_id": "A1", "plate": "苏BD12345", "plate_color": 4, "in_time": "2026-11-23 08:00:00",
                 "out_time": "2026-11-23 17:44:12", "out_channel": "X1", "is_etc": "1"},
    }  # fmt: skip
    event = _one(payload)
    assert (event["type"], event["occurred_at"], event["lane"]) == ("exit", "2026-11-23T17:44:12+08:00", "X1")
    assert event["plate_colour"] == "green" and event["etc_obu"] is True
    assert event["event_id"] == "cn-car_out-A1"


def test_obu_id_means_etc_and_is_not_forwarded():
    payload = _car_in()
    payload.update(service_name="car_out")
    payload["data"].update(out_time="2026-11-23 09:00:00", out_channel="X1", obu_id="3201220012345678")
    event = _one(payload)
    assert event["etc_obu"] is True and "3201220012345678" not in json.dumps(event)


def test_car_out_without_etc_leaves_the_default():
    payload = _car_in()
    payload.update(service_name="car_out")
    payload["data"].update(out_time="2026-11-23 09:00:00", out_channel="X1", is_etc=0)
    assert "etc_obu" not in _one(payload)


def test_berth_services_are_on_street_events():
    street = "lx-zhongshan-rd-berths"
    vehicle = {"order_id": "ZS017-1", "plate": "苏BD23456"}
    start = _one({"service_name": "berth_in", "data": {**vehicle, "berth_no": "ZS-017", "plate_color": "渐变绿",
                                                       "in_time": "2026-11-23 09:30:05"}}, lot_id=street)  # fmt: skip
    end = _one({"service_name": "berth_out", "data": {**vehicle, "space_no": 17, "plate_color": "绿",
                                                      "out_time": "2026-11-23 10:47:12"}}, lot_id=street)  # fmt: skip
    assert (start["type"], start["berth"]) == ("berth_start", "ZS-017")
    assert (end["type"], end["berth"], end["occurred_at"]) == ("berth_end", "17", "2026-11-23T10:47:12+08:00")
    assert start["event_id"] != end["event_id"]  # one vendor order, two events


def test_space_info_is_an_absolute_occupancy():
    event = _one({"type": "space_info", "total_space": "320", "remain_space": 41, "update_time": "2026-11-23 08:05:00"})
    assert (event["type"], event["total"], event["free"]) == ("occupancy", 320, 41)
    assert event["occurred_at"] == "2026-11-23T08:05:00+08:00"


def test_space_info_with_free_above_total_is_left_to_device_event():
    """Content errors are judged per event downstream, not by the adapter."""
    events = adapter.to_events(
        {"type": "space_info", "total_space": 10, "remain_space": 11, "time": "2026-11-23 08:05:00"}, lot_id=LOT
    )
    with pytest.raises(ValueError, match="free exceeds total"):
        _EVENT.validate_python(events[0])


def test_heartbeat_status():
    ok = _one({"service_name": "heartbeat", "status": 0, "time": "2026-11-23 08:00:00"})
    bad = _one({"service_name": "heartbeat", "status": "camera_offline", "msg": "出口相机离线",
                "time": "2026-11-23 08:00:00"})
    assert "status" not in ok
    assert (bad["status"], bad["detail"]) == ("degraded", "出口相机离线")


@pytest.mark.parametrize("colour, expected", sorted(PLATE_COLOURS.items()))
def test_plate_colour_table(colour, expected):
    assert _one(_car_in(plate_color=colour))["plate_colour"] == expected


def test_numeric_colour_codes_as_numbers():
    assert [_one(_car_in(plate_color=n))["plate_colour"] for n in range(6)] == [
        "blue", "yellow", "black", "white", "green", "yellow_green",
    ]  # fmt: skip


@pytest.mark.parametrize("car_type, expected", [(1, "small"), ("2", "large"), ("大型车", "large"), (3, "motorcycle"),
                                                ("摩托车", "motorcycle"), ("小车", "small")])  # fmt: skip
def test_car_type_table(car_type, expected):
    assert _one(_car_in(car_type=car_type))["vehicle_class"] == expected


def test_a_data_list_maps_each_record_in_order():
    payload = _car_in()
    payload["data"] = [dict(payload["data"], order_id=f"R{i}") for i in range(3)]
    events = adapter.to_events(payload, lot_id=LOT)
    assert [e["event_id"] for e in events] == ["cn-car_in-R0", "cn-car_in-R1", "cn-car_in-R2"]


def test_a_misread_plate_passes_through_to_be_rejected_alone():
    events = adapter.to_events(_car_in(plate="无牌车"), lot_id=LOT)
    with pytest.raises(ValueError):
        _EVENT.validate_python(events[0])


# --- times ---


def test_naive_vendor_time_is_shanghai_local():
    event = _one(_car_in(in_time="2026-11-23 23:59:59"))
    instant = datetime.fromisoformat(event["occurred_at"])
    assert event["occurred_at"].endswith("+08:00")
    assert instant == datetime(2026, 11, 23, 23, 59, 59, tzinfo=SHANGHAI)


def test_explicit_offsets_are_honoured_and_shown_in_shanghai_time():
    assert _one(_car_in(in_time="2026-11-23T00:01:02Z"))["occurred_at"] == "2026-11-23T08:01:02+08:00"


@given(st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2099, 12, 31)))
def test_any_naive_local_time_round_trips(naive):
    naive = naive.replace(microsecond=0)
    event = adapter.to_events(_car_in(in_time=naive.strftime("%Y-%m-%d %H:%M:%S")), lot_id=LOT)[0]
    assert datetime.fromisoformat(event["occurred_at"]) == naive.replace(tzinfo=SHANGHAI)


# --- deterministic ids ---


def test_resend_gives_the_same_ids():
    payload = json.loads((VENDOR_SAMPLES / "car_in--batch.json").read_text(encoding="utf-8"))
    assert adapter.to_events(payload, lot_id=LOT) == adapter.to_events(copy.deepcopy(payload), lot_id=LOT)


def test_entry_and_exit_of_one_order_have_distinct_ids():
    entry = _one(_car_in(order_id="X9"))
    out = _car_in(order_id="X9", out_time="2026-11-23 09:00:00", out_channel="X1")
    out["service_name"] = "car_out"
    assert entry["event_id"] != _one(out)["event_id"]


def test_an_unwieldy_vendor_id_is_hashed_to_a_valid_event_id():
    ids = {_one(_car_in(order_id=oid))["event_id"] for oid in ("订单/2026/11/23#117", "x" * 200, "a:b")}
    assert len(ids) == 3 and all(i.startswith("cn-car_in-h:") and len(i) <= 64 for i in ids)


def test_without_vendor_id_the_content_decides_and_image_urls_do_not():
    base = _car_in(order_id=None, img_url="https://img.example/1.jpg?Expires=1&Signature=a")
    resend = _car_in(order_id=None, img_url="https://img.example/1.jpg?Expires=2&Signature=b")
    later = _car_in(order_id=None, in_time="2026-11-23 08:01:03")
    assert _one(base)["event_id"] == _one(resend)["event_id"] != _one(later)["event_id"]
    assert _one(base)["event_id"].startswith("cn-car_in-c:")


@given(st.text(min_size=1, max_size=300).filter(lambda s: s.strip()))
def test_any_vendor_id_gives_a_valid_deterministic_event_id(order_id):
    first = _one(_car_in(order_id=order_id))["event_id"]
    assert first == _one(_car_in(order_id=order_id))["event_id"]


# --- payloads it cannot map ---

_BAD = {
    "not an object": ["car_in"],
    "no service": {"data": {}},
    "unknown service": {"service_name": "pay_notify", "data": {}},
    "service and type disagree": {"service_name": "car_in", "type": "car_out", "data": {}},
    "service not a string": {"service_name": ["car_in"], "data": {}},
    "empty data list": {"service_name": "car_in", "data": []},
    "data not an object": {"service_name": "car_in", "data": "苏B12345"},
    "record not an object": {"service_name": "car_in", "data": [1]},
    "no plate": _car_in(plate=None),
    "no plate colour": _car_in(plate_color=None),
    "colour v1 cannot represent": _car_in(plate_color="6"),
    "unknown colour name": _car_in(plate_color="紫"),
    "unknown car type": _car_in(car_type="tractor"),
    "no time": _car_in(in_time=None),
    "unix time": _car_in(in_time=1795392000),
    "date only": _car_in(in_time="2026-11-23"),
    "impossible date": _car_in(in_time="2026-02-30 08:00:00"),
    "slashed date": _car_in(in_time="2026/11/23 08:00:00"),
    "no lane": _car_in(in_channel=None),
    "lane not text": _car_in(in_channel={"id": 1}),
    "bad confidence": _car_in(confidence="high"),
    "bad is_etc": {"service_name": "car_out", "data": {"plate": "苏B12345", "plate_color": 0, "out_time":
                   "2026-11-23 09:00:00", "out_channel": "X1", "is_etc": "yes"}},  # fmt: skip
    "count not a number": {"service_name": "space_info", "total_space": "many", "remain_space": 1,
                           "update_time": "2026-11-23 08:00:00"},  # fmt: skip
    "no count": {"service_name": "space_info", "total_space": 10, "update_time": "2026-11-23 08:00:00"},
    "no berth": {"service_name": "berth_in", "data": {"plate": "苏B12345", "plate_color": 0,
                 "in_time": "2026-11-23 09:00:00"}},  # fmt: skip
}


@pytest.mark.parametrize("payload", _BAD.values(), ids=_BAD.keys())
def test_unmappable_payload_raises_invalid_input(payload):
    with pytest.raises(InvalidInput) as caught:
        adapter.to_events(payload, lot_id=LOT)
    assert caught.value.code == "adapter_payload_invalid"
    assert caught.value.as_dict()["code"] == "adapter_payload_invalid"


def test_error_names_the_record():
    payload = _car_in()
    payload["data"] = [payload["data"], dict(payload["data"], in_time="yesterday")]
    with pytest.raises(InvalidInput) as caught:
        adapter.to_events(payload, lot_id=LOT)
    assert caught.value.details == {"index": 1, "field": "in_time"}
    assert "data[1]" in caught.value.message
