"""The published JSON Schema and sample files are exactly what the code generates, and agree with each other."""

from __future__ import annotations

import json

import pytest
from jsonschema import Draft202012Validator

from shared.tariffs.__main__ import SCHEMA_PATH, schema_text
from shared.tariffs.model import json_schema
from shared.tariffs.samples import SAMPLES, SAMPLES_DIR, sample_json

REGENERATE = "regenerate with: python -m shared.tariffs write"


def test_committed_schema_equals_generated():
    assert SCHEMA_PATH.read_text(encoding="utf-8") == schema_text(), REGENERATE


def test_schema_is_valid_draft_2020_12_and_documents_fields():
    schema = json_schema()
    Draft202012Validator.check_schema(schema)
    window = schema["$defs"]["Window"]["properties"]
    assert "next day" in window["end"]["description"]
    assert schema["$defs"]["Block"]["properties"]["price_fen"]["minimum"] == 0


def test_sample_files_are_exactly_the_samples():
    assert sorted(p.stem for p in SAMPLES_DIR.glob("*.json")) == sorted(SAMPLES), REGENERATE
    for tariff_id, tariff in SAMPLES.items():
        assert (SAMPLES_DIR / f"{tariff_id}.json").read_text(encoding="utf-8") == sample_json(tariff), REGENERATE


@pytest.mark.parametrize("tariff_id", sorted(SAMPLES))
def test_samples_conform_to_the_schema(tariff_id):
    document = json.loads((SAMPLES_DIR / f"{tariff_id}.json").read_text(encoding="utf-8"))
    Draft202012Validator(json_schema()).validate(document)


def test_schema_rejects_a_negative_price():
    document = json.loads(sample_json(SAMPLES["zhumadian-class1-offstreet"]))
    document["versions"][0]["rules"][0]["blocks"][0]["price_fen"] = -1
    assert list(Draft202012Validator(json_schema()).iter_errors(document))
