"""Registered tariffs: versioned records like the registry's, plus a short in-process cache for exits."""

from __future__ import annotations

import time

from shared.adapters.dynamo.models import TariffItem
from shared.adapters.dynamo.registry import _VersionedStore
from shared.tariffs.registry import RegisteredTariff

CACHE_S = 60.0  # an uploaded change applies to new sessions anyway (effective_from), so a minute is fine


class TariffStore(_VersionedStore[RegisteredTariff]):
    record_cls, item_cls, key_attr, kind = RegisteredTariff, TariffItem, "tariff_id", "tariff"

    def __init__(self) -> None:
        self._cache: dict[str, tuple[float, RegisteredTariff | None]] = {}

    def cached(self, tariff_id: str) -> RegisteredTariff | None:
        """Every exit prices with a tariff: read it at most once a minute per process."""
        hit = self._cache.get(tariff_id)
        if hit and time.monotonic() - hit[0] < CACHE_S:
            return hit[1]
        record = self.get(tariff_id)
        self._cache[tariff_id] = (time.monotonic(), record)
        return record

    def list(self, district_code: str | None = None) -> list[RegisteredTariff]:
        cond = TariffItem.district_code == district_code if district_code else None
        return [RegisteredTariff.model_validate(i.doc) for i in TariffItem.scan(filter_condition=cond)]

    def forget(self) -> None:
        self._cache.clear()
