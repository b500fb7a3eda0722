"""Table keys are declared once, in ``shared/resources.py``: the models of ``adapters/dynamo/models.py`` take
theirs from there (``keyed``, ``index_of``); every PynamoDB model and index, those included, must say the
same keys (and every table and index of the resources must have its model)."""

from __future__ import annotations

import importlib
import pkgutil

from pynamodb.indexes import GlobalSecondaryIndex
from pynamodb.models import Model

from shared import resources
from shared.adapters import city_push, dynamo

# every module of the DynamoDB adapters (a new one is found without editing this list), and the outbox's
ADAPTER_MODULES = [importlib.import_module(f"shared.adapters.dynamo.{m.name}") for m in pkgutil.iter_modules(dynamo.__path__)]


def _models() -> list[type[Model]]:
    found = {}
    for module in (*ADAPTER_MODULES, city_push):
        for value in vars(module).values():
            if isinstance(value, type) and issubclass(value, Model) and value is not Model:
                found[value.__name__] = value
    return list(found.values())


def _keys(cls) -> tuple[str | None, str | None]:
    attrs = cls.get_attributes() if issubclass(cls, Model) else cls._attributes  # type: ignore[attr-defined]
    hash_key = next((n for n, a in attrs.items() if a.is_hash_key), None)
    range_key = next((n for n, a in attrs.items() if a.is_range_key), None)
    return hash_key, range_key


def _by_name() -> dict[str, resources.Table]:
    return {t.name: t for t in resources.TABLES}


def test_every_model_has_the_keys_of_its_table():
    tables = _by_name()
    for model in _models():
        table = tables[model.Meta.table_name]
        assert _keys(model) == (table.hash_key, table.range_key), model.__name__


def test_every_index_has_the_keys_the_resources_declare():
    tables = _by_name()
    for model in _models():
        declared = {i.name: (i.hash_key, i.range_key) for i in tables[model.Meta.table_name].indexes}
        indexes = [v for v in vars(model).values() if isinstance(v, GlobalSecondaryIndex)]
        assert {i.Meta.index_name for i in indexes} == set(declared), model.__name__
        for index in indexes:
            members = {n: getattr(type(index), n) for n in dir(type(index))}  # inherited too (models.index_of)
            hash_key = next(n for n, a in members.items() if getattr(a, "is_hash_key", False))
            range_key = next((n for n, a in members.items() if getattr(a, "is_range_key", False)), None)
            assert (hash_key, range_key) == declared[index.Meta.index_name], (model.__name__, index.Meta.index_name)


# The archive log's head is written with the low-level client (one conditional PutItem on a key it reads
# from resources.table("audit-log")), so it has no PynamoDB model to check.
CLIENT_TABLES = {resources.table("audit-log").name}


def test_every_table_of_the_resources_has_a_model():
    assert {t.name for t in resources.TABLES} - CLIENT_TABLES == {m.Meta.table_name for m in _models()}
