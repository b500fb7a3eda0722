"""The published JSON Schemas: committed files equal generated ones, and their hand-stated rules
(plate shape, offsets on instants) agree with what the pydantic models enforce."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from jsonschema import Draft202012Validator
from pydantic import TypeAdapter, ValidationError

from shared import plates
from shared.protocol.events import DeviceEvent
from tools import gen_schemas

SCHEMA_DIR = Path(__file__).resolve().parents[2] / "events" / "schemas"
GENERATED = gen_schemas.schemas()
EXPECTED_NAMES = {
    "entry", "exit", "berth_start", "berth_end", "occupancy", "heartbeat", "legacy_payment", "charging_session",
    "correction", "void", "device-event", "event-batch", "ack-response", "operator", "lot", "device",
}  # fmt: skip


def test_every_message_has_a_schema():
    assert set(GENERATED) == EXPECTED_NAMES


@pytest.mark.parametrize("name", sorted(EXPECTED_NAMES))
def test_committed_schema_equals_generated(name):
    path = SCHEMA_DIR / f"{name}.schema.json"
    assert path.exists(), f"{path.name} missing: run `make schemas`"
    assert path.read_text(encoding="utf-8") == gen_schemas.render(GENERATED[name]), (
        f"{path.name} drifted from the models: run `make schemas` and commit the result"
    )


@pytest.mark.parametrize("name", sorted(EXPECTED_NAMES))
def test_schema_is_valid_draft_2020_12_with_identity(name):
    schema = GENERATED[name]
    Draft202012Validator.check_schema(schema)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["$id"] == f"https://tongting.example/schemas/v1/{name}.schema.json"
    assert schema["title"] and schema["description"]


def test_check_mode_reports_no_drift(capsys):
    assert gen_schemas.main(["--check"]) == 0


def test_generator_leaves_files_it_does_not_own():
    # tariff.schema.json belongs to the tariff work; the generator must never produce or prune it.
    assert "tariff" not in GENERATED


# --- The plate pattern is a hand translation of plates.parse: keep them equal. ---

_PLATE = Draft202012Validator({"type": "string", "pattern": gen_schemas.PLATE_PATTERN})
_NOISE = "苏京沪粤浙ABDEFIOSZbdos0125789挂警港 .·•-_/X中"


def _parses(text: str) -> bool:
    try:
        plates.parse(text)
        return True
    except plates.MalformedPlate:
        return False


@st.composite
def _plate_like(draw):
    """Mostly near-plates (where the two could disagree), some pure noise."""
    if draw(st.booleans()):
        return draw(st.text(alphabet=_NOISE, max_size=12))
    sep = st.sampled_from(["", "", "", " ", "·", ".", "-"])
    parts = [draw(st.sampled_from(["", "苏", "京", "粤"]))]
    parts.append(draw(st.sampled_from("ABEFbz")))
    parts += draw(st.lists(st.sampled_from("0123456789ABDFOSIZdk挂警学"), min_size=3, max_size=8))
    return "".join(p + draw(sep) for p in parts)


@given(_plate_like())
def test_plate_pattern_agrees_with_plates_parse(text):
    assert _PLATE.is_valid(text) == _parses(text), text


@pytest.mark.parametrize(
    "text, ok",
    [("苏B12345", True), ("苏BD12345", True), ("苏b·12345", True), ("B12345", True), ("苏B1234学", True),
     ("苏B1234", False), ("苏B123456789", False), ("苏12345", False), ("无牌车", False), ("", False)],
)  # fmt: skip
def test_plate_pattern_examples(text, ok):
    assert _PLATE.is_valid(text) is ok
    assert _parses(text) is ok


# --- Instants: whatever the schema accepts, the model accepts (the schema is never the looser one). ---

_INSTANT = Draft202012Validator(
    {"type": "string", "format": "date-time", "pattern": gen_schemas.AWARE_DATETIME_PATTERN},
    format_checker=Draft202012Validator.FORMAT_CHECKER,
)
_EVENT = TypeAdapter(DeviceEvent)


def _model_accepts(occurred_at: object) -> bool:
    raw = {"type": "heartbeat", "event_id": "hb-1", "lot_id": "lx-nanchang-st-01", "occurred_at": occurred_at}
    try:
        _EVENT.validate_python(raw)
        return True
    except ValidationError:
        return False


_instants = st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2099, 12, 31))
_offsets = st.integers(min_value=-12 * 60, max_value=14 * 60).map(lambda m: timezone(timedelta(minutes=m)))


@given(_instants, _offsets, st.sampled_from(["seconds", "milliseconds", "microseconds"]))
def test_aware_instants_pass_both(naive, offset, timespec):
    text = naive.replace(tzinfo=offset).isoformat(timespec=timespec)
    assert _INSTANT.is_valid(text) and _model_accepts(text), text


@given(_instants)
def test_naive_instants_fail_both(naive):
    text = naive.isoformat(timespec="seconds")
    assert not _INSTANT.is_valid(text) and not _model_accepts(text), text


@pytest.mark.parametrize(
    "text",
    ["2026-11-23 08:00:00+08:00", "2026-11-23T08:00:00+0800", "2026-11-23T08:00+08:00", "1795392000"],
)
def test_forms_only_the_model_tolerates(text):
    """The published contract is strict RFC 3339; the platform is lenient about these (see events/README.md)."""
    assert not _INSTANT.is_valid(text)
    assert _model_accepts(text)


def test_local_opening_hours_are_offset_free():
    lot = GENERATED["lot"]
    opens = lot["$defs"]["OpeningHours"]["properties"]["opens"]["anyOf"][0]
    validator = Draft202012Validator(opens, format_checker=Draft202012Validator.FORMAT_CHECKER)
    assert validator.is_valid("07:00:00") and validator.is_valid("21:30")
    assert not validator.is_valid("24:00") and not validator.is_valid("07:00:00+08:00")


def test_batch_items_are_the_device_event_union():
    batch = GENERATED["event-batch"]
    assert batch["properties"]["events"]["items"] == {"$ref": "#/$defs/DeviceEvent"}
    union = {k: v for k, v in GENERATED["device-event"].items() if k not in ("$schema", "$id", "title", "description")}
    assert json.dumps(batch["$defs"]["DeviceEvent"], sort_keys=True) == json.dumps(
        {k: v for k, v in union.items() if k != "$defs"}, sort_keys=True
    )
