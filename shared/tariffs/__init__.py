"""The tariff engine: pure, exact to the fen.

``validate_tariff`` checks an uploaded tariff, ``quote`` prices a stay. Field semantics: ``docs/tariffs.md``;
the format's JSON Schema: ``events/schemas/tariff.schema.json`` (from ``model.json_schema()``).
"""

from shared.tariffs.engine import NEW_ENERGY_COLOURS, quote
from shared.tariffs.model import Tariff, TariffVersion, json_schema
from shared.tariffs.quote import Cycle, Line, Quote
from shared.tariffs.validation import validate_tariff

__all__ = [
    "NEW_ENERGY_COLOURS",
    "Cycle",
    "Line",
    "Quote",
    "Tariff",
    "TariffVersion",
    "json_schema",
    "quote",
    "validate_tariff",
]
