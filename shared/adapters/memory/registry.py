"""Versioned registry records (operators, lots, devices) and registered tariffs, in memory."""

from __future__ import annotations

from typing import Generic, TypeVar

from pydantic import BaseModel

from shared.adapters.memory.db import LOCK, dump
from shared.errors import Conflict, NotFound
from shared.registry.model import Device, Lot, Operator
from shared.tariffs.registry import RegisteredTariff

R = TypeVar("R", bound=BaseModel)


class _VersionedRecords(Generic[R]):
    record_cls: type[R]
    key_attr: str
    kind: str

    def __init__(self) -> None:
        self._docs: dict[str, dict] = {}
        self._extra: dict[str, dict] = {}

    def get(self, key: str) -> R | None:
        doc = self._docs.get(key)
        return self.record_cls.model_validate(doc) if doc is not None else None

    def require(self, key: str) -> R:
        record = self.get(key)
        if record is None:
            raise NotFound(f"{self.kind} {key} is not registered", code=f"unknown_{self.kind}")
        return record

    def create(self, record: R, **extra) -> R:
        doc = dump(record.model_copy(update={"version": 1}))
        key = doc[self.key_attr]
        with LOCK:
            if key in self._docs:
                raise Conflict(f"{self.kind} {key} already exists", code="already_exists")
            self._docs[key], self._extra[key] = doc, extra
        return self.record_cls.model_validate(doc)

    def replace(self, record: R, expected_version: int, **extra) -> R:
        new = record.model_copy(update={"version": expected_version + 1})
        doc = dump(new)
        key = doc[self.key_attr]
        with LOCK:
            stored = self._docs.get(key)
            if stored is None or stored["version"] != expected_version:
                current = self.require(key)
                raise Conflict(
                    f"{self.kind} changed since version {expected_version} (now {current.version})",
                    code="version_conflict",
                    current_version=current.version,
                )
            self._docs[key], self._extra[key] = doc, extra
        return new

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
