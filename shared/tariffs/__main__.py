"""``python -m shared.tariffs write``: regenerate the published schema and sample tariffs from the code."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from shared.tariffs.model import json_schema
from shared.tariffs.samples import SAMPLES, SAMPLES_DIR, sample_json

SCHEMA_PATH = Path(__file__).resolve().parents[2] / "events" / "schemas" / "tariff.schema.json"


def schema_text() -> str:
    return json.dumps(json_schema(), indent=2, ensure_ascii=False) + "\n"


def write() -> list[Path]:
    SCHEMA_PATH.parent.mkdir(parents=True, exist_ok=True)
    SCHEMA_PATH.write_text(schema_text(), encoding="utf-8")
    SAMPLES_DIR.mkdir(parents=True, exist_ok=True)
    written = [SCHEMA_PATH]
    for tariff_id, tariff in SAMPLES.items():
        path = SAMPLES_DIR / f"{tariff_id}.json"
        path.write_text(sample_json(tariff), encoding="utf-8")
        written.append(path)
    return written


if __name__ == "__main__":
    if sys.argv[1:] != ["write"]:
        sys.exit("usage: python -m shared.tariffs write")
    for path in write():
        print(path)
