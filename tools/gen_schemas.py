"""Generate the published JSON Schemas (draft 2020-12) of protocol v1 and the registry records.

Run ``python -m tools.gen_schemas`` (``make schemas``) after changing a model; ``--check`` only reports
drift and exits 1, for CI. The pydantic models stay the source of truth; this module adds the ``$id``,
titles and descriptions, and writes down in JSON Schema the few rules pydantic enforces in Python code
(plate shape, an offset on every instant, local opening hours), so that a vendor validating against the
files sees the same verdict the platform gives. Rules JSON Schema cannot state (``free <= total``) are
named in the descriptions instead. Files this module does not generate are left alone.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from pydantic import TypeAdapter
from pydantic.json_schema import GenerateJsonSchema, JsonSchemaMode

from shared.plates import PROVINCES
from shared.protocol.events import (
    AckResponse,
    BerthEndEvent,
    BerthStartEvent,
    ChargingSessionEvent,
    CorrectionEvent,
    DeviceEvent,
    EntryEvent,
    EventBatch,
    ExitEvent,
    LegacyPaymentEvent,
    HeartbeatEvent,
    OccupancyEvent,
    VoidEvent,
)
from shared.registry.model import Device, Lot, Operator

SCHEMA_DIR = Path(__file__).resolve().parent.parent / "events" / "schemas"
BASE_ID = "https://tongting.example/schemas/v1/"
DIALECT = "https://json-schema.org/draft/2020-12/schema"

# RFC 3339 date-time with a mandatory offset: a naive local time is ambiguous once it leaves the lot.
AWARE_DATETIME_PATTERN = (
    r"^[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt][0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]+)?([Zz]|[+\-][0-9]{2}:[0-9]{2})$"
)
# Opening hours are Asia/Shanghai wall-clock times. JSON Schema's "time" format demands an offset,
# which would reject the platform's own records, so the shape is stated as a pattern instead.
LOCAL_TIME_PATTERN = r"^([01][0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9](\.[0-9]+)?)?$"

# The plate as a device may send it: shared.plates.parse drops spaces, dots, middle dots and hyphens
# and upper-cases before matching, so the pattern allows those on the raw text. Kept equal to
# plates.parse by a property test (tests/protocol/test_protocol_schemas.py).
_SEP = r"[\s.·•\-]*"
_ALNUM = "A-Za-z0-9"
PLATE_PATTERN = (
    rf"^{_SEP}(?:[{PROVINCES}]{_SEP})?[A-Za-z]{_SEP}(?:[{_ALNUM}]{_SEP}){{4,5}}[{_ALNUM}挂学警港澳领使]{_SEP}$"
)
PLATE_DESCRIPTION = (
    "As read, e.g. 苏B12345 (blue/yellow: 5 characters after the letter) or 苏BD12345 (green new-energy: 6). "
    "Spaces, dots and middle dots are dropped and letters upper-cased; a missing province character is "
    "accepted and flagged."
)


class _Generator(GenerateJsonSchema):
    """Pydantic's generator, plus patterns for the time shapes the models enforce in code."""

    def datetime_schema(self, schema):  # type: ignore[override]
        out = super().datetime_schema(schema)
        if schema.get("tz_constraint") == "aware":
            out["pattern"] = AWARE_DATETIME_PATTERN
        return out

    def time_schema(self, schema):  # type: ignore[override]
        return {"type": "string", "pattern": LOCAL_TIME_PATTERN, "description": "Asia/Shanghai local time, HH:MM[:SS]."}


def _model(model: Any, mode: JsonSchemaMode = "validation") -> dict[str, Any]:
    return TypeAdapter(model).json_schema(mode=mode, schema_generator=_Generator)


def _patch_plates(schema: dict[str, Any]) -> None:
    for node in [schema, *schema.get("$defs", {}).values()]:
        plate = node.get("properties", {}).get("plate")
        if plate is not None:
            plate.update(pattern=PLATE_PATTERN, description=PLATE_DESCRIPTION)


def _event_batch() -> dict[str, Any]:
    """EventBatch types its items as plain objects so that one bad event is rejected on its own; the
    published schema says what each item must be, so a vendor sees the per-event verdict up front."""
    schema = _model(EventBatch)
    union = _model(DeviceEvent)
    schema["$defs"] = {**union.pop("$defs"), "DeviceEvent": union}
    schema["properties"]["events"]["items"] = {"$ref": "#/$defs/DeviceEvent"}
    return schema


_FREE_TOTAL = " Also checked by the platform, which JSON Schema cannot state: free <= total."

# name -> (build, title, description)
_MESSAGES: dict[str, tuple[Any, str, str]] = {
    "entry": (
        lambda: _model(EntryEvent),
        "Protocol v1 entry event",
        "A vehicle passed an entry lane of an enclosed lot (ANPR camera or the lot's own system).",
    ),
    "exit": (
        lambda: _model(ExitEvent),
        "Protocol v1 exit event",
        "A vehicle reached an exit lane of an enclosed lot; the acknowledgement carries the gate decision.",
    ),
    "berth_start": (
        lambda: _model(BerthStartEvent),
        "Protocol v1 on-street berth start event",
        "A vehicle occupied an on-street berth (berth robot, high/low video pole or geomagnetic sensor).",
    ),
    "berth_end": (
        lambda: _model(BerthEndEvent),
        "Protocol v1 on-street berth end event",
        "A vehicle left an on-street berth.",
    ),
    "legacy_payment": (
        lambda: _model(LegacyPaymentEvent),
        "Protocol v1 legacy payment report",
        "A payment a lot took through its own (legacy) pay code (S9), reported so the platform never "
        "charges the session again; applied once per legacy_ref.",
    ),
    "charging_session": (
        lambda: _model(ChargingSessionEvent),
        "Protocol v1 charging session report",
        "A charging session at a lot's charger, reported by the charging operator when it ends (S12): "
        "parking is free or discounted while charging by the lot's policy; bay_left_at, if the bay sensor "
        "knows it, reveals idle occupancy. Also checked by the platform: started_at <= ended_at <= "
        "bay_left_at, at most 2 days of charging, the whole plate.",
    ),
    "correction": (
        lambda: _model(CorrectionEvent),
        "Protocol v1 correction",
        "A lot corrects the time of an entry or exit it sent (S16), never by a silent resend: the session and "
        "its bill follow the corrected time (a charge or an adjustment posting); corrections are counted per lot.",
    ),
    "void": (
        lambda: _model(VoidEvent),
        "Protocol v1 void",
        "A lot withdraws an entry whose session never happened (S16): the session is closed as voided, its bill "
        "adjusted to zero and anything paid on it refunded; voids are counted per lot.",
    ),
    "occupancy": (
        lambda: _model(OccupancyEvent),
        "Protocol v1 occupancy event",
        "Absolute total and free spaces of a lot. Never +1/-1 deltas: those drift after a network cut."
        + _FREE_TOTAL,
    ),
    "heartbeat": (
        lambda: _model(HeartbeatEvent),
        "Protocol v1 heartbeat event",
        "A device or lot system is alive; silence longer than the lot's heartbeat window marks it offline.",
    ),
    "device-event": (
        lambda: _model(DeviceEvent),
        "Protocol v1 device event",
        "Any one protocol v1 event, told apart by its type field: the body of a single-event POST /v1/events."
        + _FREE_TOTAL,
    ),
    "event-batch": (
        _event_batch,
        "Protocol v1 event batch",
        "The batch body of POST /v1/events: 1 to 100 events. The platform acknowledges each event on its "
        "own: an invalid event is rejected, the rest of the batch is still processed." + _FREE_TOTAL,
    ),
    "ack-response": (
        # What the platform sends, hence the serialisation shape.
        lambda: _model(AckResponse, mode="serialization"),
        "Protocol v1 acknowledgement response",
        "The reply to POST /v1/events: one acknowledgement per event, in request order (accepted, "
        "duplicate or rejected); an accepted or duplicate exit carries the gate decision (open or pay).",
    ),
    "operator": (
        lambda: _model(Operator),
        "Registry operator record",
        "A registered lot operator (备案), with the account its parking revenue settles into (S3, S9).",
    ),
    "lot": (
        lambda: _model(Lot),
        "Registry lot record",
        "A registered car park or on-street berth zone. Also checked by the platform: an on-street lot lists "
        "unique berths and its capacity is their number; an enclosed lot lists none; opening hours that are "
        "not 'always' give opens and closes.",
    ),
    "device": (
        lambda: _model(Device),
        "Registry device record",
        "A device or system that signs requests with its own secret. Also checked by the platform: a "
        "district gateway has no lot_id, every other device has one.",
    ),
}

NAMES = tuple(_MESSAGES)


def schema_id(name: str) -> str:
    return f"{BASE_ID}{name}.schema.json"


def schemas() -> dict[str, dict[str, Any]]:
    """Every published schema, name -> schema, generated afresh from the models."""
    out: dict[str, dict[str, Any]] = {}
    for name, (build, title, description) in _MESSAGES.items():
        body = build()
        _patch_plates(body)
        body.pop("title", None)
        body.pop("description", None)
        out[name] = {"$schema": DIALECT, "$id": schema_id(name), "title": title, "description": description, **body}
    return out


def render(schema: dict[str, Any]) -> str:
    return json.dumps(schema, ensure_ascii=False, indent=2) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="report drift, write nothing, exit 1 on drift")
    args = parser.parse_args(argv)
    SCHEMA_DIR.mkdir(parents=True, exist_ok=True)
    stale = []
    for name, schema in schemas().items():
        path = SCHEMA_DIR / f"{name}.schema.json"
        text = render(schema)
        if path.exists() and path.read_text(encoding="utf-8") == text:
            continue
        stale.append(path.name)
        if not args.check:
            path.write_text(text, encoding="utf-8")
    verb = "stale" if args.check else "written"
    print(f"{len(stale)} schema(s) {verb}: {', '.join(stale) or '-'}")
    return 1 if (args.check and stale) else 0


if __name__ == "__main__":
    sys.exit(main())
