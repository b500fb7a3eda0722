"""Every sample message gets the same verdict from its JSON Schema and from the pydantic models.

Samples are named ``<schema name>[--<variant>].json``; the part before ``--`` picks the schema.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from jsonschema import Draft202012Validator
from pydantic import BaseModel, TypeAdapter, ValidationError

from shared.protocol.events import (
    AckResponse,
    BerthEndEvent,
    BerthStartEvent,
    DeviceEvent,
    EntryEvent,
    EventBatch,
    ExitEvent,
    HeartbeatEvent,
    LegacyPaymentEvent,
    OccupancyEvent,
)
from shared.protocol.events import ChargingSessionEvent, CorrectionEvent, VoidEvent
from shared.registry.model import Device, Lot, Operator
from tools import gen_schemas

SAMPLES = Path(__file__).resolve().parents[2] / "events" / "samples"
VALID = sorted((SAMPLES / "v1").glob("*.json"))
INVALID = sorted((SAMPLES / "invalid").glob("*.json"))
SCHEMAS = gen_schemas.schemas()

# Rules JSON Schema cannot state (they compare two fields); the schema descriptions name them.
# Listed so the gap is explicit: these must pass the schema and fail the model.
SCHEMA_CANNOT_STATE = {"occupancy--free-exceeds-total.json"}

_DEVICE_EVENT = TypeAdapter(DeviceEvent)
_MODELS: dict[str, type[BaseModel]] = {
    "entry": EntryEvent,
    "exit": ExitEvent,
    "berth_start": BerthStartEvent,
    "berth_end": BerthEndEvent,
    "occupancy": OccupancyEvent,
    "heartbeat": HeartbeatEvent,
    "legacy_payment": LegacyPaymentEvent,
    "charging_session": ChargingSessionEvent,
    "correction": CorrectionEvent,
    "void": VoidEvent,
    "ack-response": AckResponse,
    "operator": Operator,
    "lot": Lot,
    "device": Device,
}


def _schema_name(path: Path) -> str:
    return path.stem.split("--")[0]


def _model_validate(name: str, data: object) -> None:
    """As the platform does it; a batch's events are validated one by one (each gets its own ack)."""
    if name == "device-event":
        _DEVICE_EVENT.validate_python(data)
    elif name == "event-batch":
        for event in EventBatch.model_validate(data).events:
            _DEVICE_EVENT.validate_python(event)
    else:
        _MODELS[name].model_validate(data)


def _schema_errors(name: str, data: object) -> list[str]:
    validator = Draft202012Validator(SCHEMAS[name], format_checker=Draft202012Validator.FORMAT_CHECKER)
    return [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in validator.iter_errors(data)]


def _load(path: Path) -> object:
    return json.loads(path.read_text(encoding="utf-8"))


def test_every_schema_has_a_valid_sample():
    assert {_schema_name(p) for p in VALID} == set(SCHEMAS)


def test_required_variants_exist():
    names = {p.name for p in VALID}
    batch_types = {e["type"] for e in _load(SAMPLES / "v1" / "event-batch.json")["events"]}
    assert len(batch_types) >= 3, "the batch sample mixes event types"
    assert _load(SAMPLES / "v1" / "exit.json")["etc_obu"] is True
    assert _load(SAMPLES / "v1" / "berth_start.json")["lot_id"] == "lx-zhongshan-rd-berths"
    assert {"total", "free"} <= set(_load(SAMPLES / "v1" / "occupancy.json"))
    assert "lot--on-street.json" in names


def test_invalid_samples_cover_the_classic_mistakes():
    stems = {p.stem for p in INVALID}
    for needed in ("malformed-plate", "free-exceeds-total", "without-offset", "unknown-type", "extra-field"):
        assert any(needed in s for s in stems), needed


@pytest.mark.parametrize("path", VALID, ids=lambda p: p.name)
def test_valid_sample_passes_schema_and_model(path):
    name, data = _schema_name(path), _load(path)
    assert _schema_errors(name, data) == []
    _model_validate(name, data)


@pytest.mark.parametrize("path", INVALID, ids=lambda p: p.name)
def test_invalid_sample_fails_model(path):
    with pytest.raises(ValidationError):
        _model_validate(_schema_name(path), _load(path))


@pytest.mark.parametrize("path", INVALID, ids=lambda p: p.name)
def test_invalid_sample_fails_schema(path):
    errors = _schema_errors(_schema_name(path), _load(path))
    if path.name in SCHEMA_CANNOT_STATE:
        assert errors == [], "the schema now catches this: drop it from SCHEMA_CANNOT_STATE"
        assert "free <= total" in SCHEMAS[_schema_name(path)]["description"]
    else:
        assert errors, f"{path.name} passes its JSON Schema"


@pytest.mark.parametrize("path", VALID, ids=lambda p: p.name)
def test_sample_instants_carry_the_shanghai_offset(path):
    text = path.read_text(encoding="utf-8")
    for key in ("occurred_at", "accepted_at"):
        for line in text.splitlines():
            if f'"{key}"' in line:
                assert "+08:00" in line, line
