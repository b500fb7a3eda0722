"""``cn_common``: the push shape most Chinese parking clouds share, mapped onto protocol v1.

A push is one JSON object::

    {"service_name": "car_in",            # or "type"; see SERVICES
     "park_uuid": "P3202130007",          # the vendor's lot id: a reference only, the lot is the device's
     "data": {...} | [{...}, ...]}        # one record, several, or the record fields inline

Record fields (vendor name -> protocol v1):

    order_id | record_id        -> event_id  "cn-<service>-<id>"; "cn-<service>-h:<sha256>" for ids
                                   that do not fit; "cn-<service>-c:<sha256 of the mapped event>" if none
    plate                       -> plate (spaces, dots, "·" dropped; upper-cased)
    plate_color                 -> plate_colour, see PLATE_COLOURS (required: never guessed)
    car_type                    -> vehicle_class, see VEHICLE_CLASSES (absent: small)
    in_time | out_time          -> occurred_at; "YYYY-MM-DD HH:MM:SS" local time without offset is
                                   Asia/Shanghai, emitted as RFC 3339 "+08:00"
    in_channel | out_channel    -> lane
    berth_no | space_no         -> berth (on-street services)
    is_etc (0/1) | obu_id       -> etc_obu (car_out)
    confidence (0..1 or 0..100) -> confidence
    img_url                     -> evidence_ref
    total_space, remain_space   -> total, free (space_info: absolute counts)
    update_time | time          -> occurred_at (space_info, heartbeat)
    status, msg                 -> status, detail (heartbeat: 0/ok/normal/正常 is ok, else degraded)

The adapter raises ``adapter_payload_invalid`` only for what it must translate and cannot: a missing or
mistyped field, an unknown service or code, an unreadable time. Values it passes through (plate text,
lane, counts) are judged by ``DeviceEvent`` like any device's, so one misread plate is rejected alone
instead of taking its batch down with it.
"""

from __future__ import annotations

import hashlib
import json
import re
from datetime import datetime
from typing import Any

from shared.clock import SHANGHAI, iso
from shared.plates import normalise
from shared.protocol.lot_systems.base import invalid

# vendor service -> protocol v1 event type
SERVICES = {
    "car_in": "entry",
    "car_out": "exit",
    "berth_in": "berth_start",
    "berth_out": "berth_end",
    "space_info": "occupancy",
    "heartbeat": "heartbeat",
}

# Chinese colour names, the ETC toll-road numeric codes most parking clouds reuse (0 blue, 1 yellow,
# 2 black, 3 white, 4 gradient green, 5 yellow-green), and the protocol v1 names themselves.
# Codes v1 cannot represent (6 blue-white, 7 temporary, 11 green, 12 red) are refused, not guessed.
PLATE_COLOURS = {
    **dict.fromkeys(["蓝", "蓝色", "0", "blue"], "blue"),
    **dict.fromkeys(["黄", "黄色", "1", "yellow"], "yellow"),
    **dict.fromkeys(["黑", "黑色", "2", "black"], "black"),
    **dict.fromkeys(["白", "白色", "3", "white"], "white"),
    **dict.fromkeys(["绿", "绿色", "渐变绿", "渐变绿色", "4", "green"], "green"),
    **dict.fromkeys(["黄绿", "黄绿色", "黄绿双拼", "黄绿双拼色", "5", "yellow_green"], "yellow_green"),
}

VEHICLE_CLASSES = {
    **dict.fromkeys(["1", "小型车", "小车", "small"], "small"),
    **dict.fromkeys(["2", "大型车", "大车", "large"], "large"),
    **dict.fromkeys(["3", "摩托车", "motorcycle"], "motorcycle"),
}

_OK_STATUS = {"0", "ok", "normal", "正常"}
_LOCAL_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}:\d{2}(\.\d{1,6})?(Z|[+-]\d{2}:\d{2})?$")
# Vendor ids used verbatim must fit EventId after the prefix; ':' is left out so a verbatim id can
# never collide with a hashed one ("h:..." / "c:...").
_VERBATIM_ID = re.compile(r"^[A-Za-z0-9_.\-]{1,48}$")


class CnCommonAdapter:
    name = "cn_common"

    def to_events(self, payload: dict, *, lot_id: str) -> list[dict]:
        if not isinstance(payload, dict):
            raise invalid("a cn_common push is a JSON object")
        service = _service(payload)
        records = payload.get("data", payload)
        if isinstance(records, dict):
            records = [records]
        if not isinstance(records, list) or not records:
            raise invalid("data must be a record object or a non-empty list of records", field="data")
        events = []
        for index, record in enumerate(records):
            if not isinstance(record, dict):
                raise invalid(f"data[{index}] is not an object", index=index)
            try:
                events.append(_map(service, record, lot_id))
            except _Unmappable as exc:
                raise invalid(f"data[{index}]: {exc.message}", index=index, field=exc.field) from None
        return events


class _Unmappable(Exception):
    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field, self.message = field, message


def _service(payload: dict) -> str:
    named = [payload[k] for k in ("service_name", "type") if payload.get(k) is not None]
    if not named or any(not isinstance(n, str) or n != named[0] for n in named):
        raise invalid("one service_name (or type) string is required", field="service_name")
    service = named[0]
    if service not in SERVICES:
        raise invalid(f"unknown service {service!r}; known: {', '.join(SERVICES)}", field="service_name")
    return service


def _map(service: str, record: dict, lot_id: str) -> dict[str, Any]:
    v1_type = SERVICES[service]
    event: dict[str, Any] = {"type": v1_type, "lot_id": lot_id}
    if v1_type == "occupancy":
        event["occurred_at"] = _time(record, "update_time", "time")
        event["total"] = _count(record, "total_space")
        event["free"] = _count(record, "remain_space")
    elif v1_type == "heartbeat":
        event["occurred_at"] = _time(record, "update_time", "time")
        status = record.get("status", "ok")
        if str(status).lower() not in _OK_STATUS:
            event["status"] = "degraded"
            event["detail"] = str(record.get("msg") or f"vendor status {status}")[:256]
    else:
        arriving = v1_type in ("entry", "berth_start")
        event["occurred_at"] = _time(record, "in_time" if arriving else "out_time")
        event.update(_vehicle(record))
        if v1_type in ("entry", "exit"):
            event["lane"] = _text(record, "in_channel" if arriving else "out_channel")
        else:
            event["berth"] = _text(record, "berth_no", "space_no")
        if v1_type == "exit" and _etc(record):
            event["etc_obu"] = True
    return {"type": v1_type, "event_id": _event_id(service, record, event), **event}


def _vehicle(record: dict) -> dict[str, Any]:
    out: dict[str, Any] = {
        "plate": normalise(_text(record, "plate")),
        "plate_colour": _code(record, "plate_color", PLATE_COLOURS, required=True),
    }
    vehicle_class = _code(record, "car_type", VEHICLE_CLASSES, required=False)
    if vehicle_class:
        out["vehicle_class"] = vehicle_class
    if record.get("confidence") is not None:
        out["confidence"] = _confidence(record["confidence"])
    if record.get("img_url"):
        out["evidence_ref"] = _text(record, "img_url")
    return out


def _first(record: dict, *keys: str) -> tuple[str, Any]:
    for key in keys:
        if record.get(key) is not None:
            return key, record[key]
    raise _Unmappable(keys[0], f"{' or '.join(keys)} is required")


def _text(record: dict, *keys: str) -> str:
    key, value = _first(record, *keys)
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        raise _Unmappable(key, f"{key} must be a string")
    return str(value).strip()


def _code(record: dict, key: str, table: dict[str, str], *, required: bool) -> str | None:
    if record.get(key) is None:
        if required:
            raise _Unmappable(key, f"{key} is required")
        return None
    value = record[key]
    mapped = None if isinstance(value, bool) else table.get(str(value).strip().lower())
    if mapped is None:
        raise _Unmappable(key, f"{key} {value!r} has no protocol v1 equivalent")
    return mapped


def _time(record: dict, *keys: str) -> str:
    key, value = _first(record, *keys)
    if not isinstance(value, str) or not _LOCAL_TIME.match(value.strip()):
        raise _Unmappable(key, f"{key} must be 'YYYY-MM-DD HH:MM:SS' (Asia/Shanghai), got {value!r}")
    try:
        instant = datetime.fromisoformat(value.strip())
    except ValueError:
        raise _Unmappable(key, f"{key} {value!r} is not a real time") from None
    # The vendor clock is the lot's wall clock: Asia/Shanghai (no DST, so never ambiguous).
    if instant.tzinfo is None:
        instant = instant.replace(tzinfo=SHANGHAI)
    return iso(instant)


def _count(record: dict, key: str) -> int:
    _, value = _first(record, key)
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str) and re.fullmatch(r"-?\d{1,9}", value.strip()):
        return int(value)
    raise _Unmappable(key, f"{key} must be an integer count, got {value!r}")


def _confidence(value: Any) -> float:
    if isinstance(value, bool):
        raise _Unmappable("confidence", "confidence must be a number")
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise _Unmappable("confidence", f"confidence must be a number, got {value!r}") from None
    # Vendors send either a fraction or a percentage; 1 and below are read as a fraction.
    return number / 100 if number > 1 else number


def _etc(record: dict) -> bool:
    flag = record.get("is_etc")
    if flag is not None:
        if str(flag).strip().lower() in ("1", "true"):
            return True
        if str(flag).strip().lower() not in ("0", "false"):
            raise _Unmappable("is_etc", f"is_etc must be 0 or 1, got {flag!r}")
    obu = record.get("obu_id")
    return isinstance(obu, str) and bool(obu.strip())


def _event_id(service: str, record: dict, event: dict[str, Any]) -> str:
    """Deterministic from the vendor record, so a resend is acknowledged as a duplicate."""
    prefix = f"cn-{service}-"
    for key in ("order_id", "record_id"):
        value = record.get(key)
        if isinstance(value, bool) or not isinstance(value, (str, int)) or str(value).strip() == "":
            continue
        vendor_id = str(value).strip()
        if _VERBATIM_ID.match(vendor_id):
            return prefix + vendor_id
        return prefix + "h:" + hashlib.sha256(vendor_id.encode()).hexdigest()[:40]
    # No vendor id: hash what the event says. The image URL is left out: vendors re-sign it per push.
    content = {k: v for k, v in event.items() if k not in ("event_id", "evidence_ref")}
    digest = hashlib.sha256(json.dumps(content, sort_keys=True, ensure_ascii=False).encode()).hexdigest()
    return prefix + "c:" + digest[:40]
