"""Versioned registry records (operators, lots, devices) and registered tariffs, in memory."""

from __future__ import annotations

from typing import TypeVar

from pydantic import BaseModel

from shared.adapters.memory.db import LOCK
from shared.adapters.records import VersionedRecords
from shared.errors import NotFound
from shared.registry.model import Device, Lot, Operator
from shared.tariffs.registry import RegisteredTariff

R = TypeVar("R", bound=BaseModel)


class _VersionedRecords(VersionedRecords[R]):
    """The versioned-record rules (``shared.adapters.records``) on a dictionary."""

    def __init__(self) -> None:
        self._docs: dict[str, dict] = {}
        self._extra: dict[str, dict] = {}

    def _load(self, key: str) -> dict | None:
        return self._docs.get(key)

    def _put(self, doc: dict, expected_version: int | None, extra: dict) -> bool:
        key = doc[self.key_attr]
        with LOCK:
            stored = self._docs.get(key)
            if (stored is not None) if expected_version is None else (stored is None or stored["version"] != expected_version):
                return False
            self._docs[key], self._extra[key] = doc, extra
        return True

    def _all(self) -> list[R]:
        return [self.record_cls.model_validate(self._docs[k]) for k in sorted(self._docs)]


class OperatorStore(_VersionedRecords[Operator]):
    record_cls, key_attr, kind = Operator, "operator_id", "operator"

    def list(self, district_code: str | None = None) -> list[Operator]:
        return [o for o in self._all() if district_code is None or o.district_code == district_code]


class LotStore(_VersionedRecords[Lot]):
    record_cls, key_attr, kind = Lot, "lot_id", "lot"

    def list(self, district_code: str | None = None, operator_id: str | None = None) -> list[Lot]:
        if district_code:
            return [lot for lot in self._all() if lot.district_code == district_code]
        if operator_id:
            return [lot for lot in self._all() if lot.operator_id == operator_id]
        return self._all()


class DeviceStore(_VersionedRecords[Device]):
    record_cls, key_attr, kind = Device, "device_id", "device"

    def get_with_secret(self, device_id: str) -> tuple[Device, str] | None:
        device = self.get(device_id)
        return (device, self._extra[device_id]["secret_ciphertext"]) if device is not None else None

    def require_with_secret(self, device_id: str) -> tuple[Device, str]:
        found = self.get_with_secret(device_id)
        if found is None:
            raise NotFound(f"device {device_id} is not registered", code="unknown_device")
        return found

    def list(self, lot_id: str | None = None) -> list[Device]:
        return [d for d in self._all() if lot_id is None or d.lot_id == lot_id]


class TariffStore(_VersionedRecords[RegisteredTariff]):
    record_cls, key_attr, kind = RegisteredTariff, "tariff_id", "tariff"

    def cached(self, tariff_id: str) -> RegisteredTariff | None:
        return self.get(tariff_id)  # nothing to save: a read costs nothing here

    def list(self, district_code: str | None = None) -> list[RegisteredTariff]:
        return [t for t in self._all() if district_code is None or t.district_code == district_code]

    def forget(self) -> None:
        return None
