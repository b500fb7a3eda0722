"""Versioned registry records: create only if absent, update only from the current version."""

from __future__ import annotations

from typing import TypeVar

from pydantic import BaseModel
from pynamodb.exceptions import DoesNotExist

from shared.adapters.dynamo import read_ahead
from shared.adapters.dynamo.conditions import save_if
from shared.adapters.dynamo.models import DeviceItem, LotItem, OperatorItem
from shared.adapters.records import VersionedRecords
from shared.errors import NotFound
from shared.registry.model import Device, Lot, Operator

R = TypeVar("R", bound=BaseModel)


class _VersionedStore(VersionedRecords[R]):
    """The versioned-record rules (``shared.adapters.records``) on one DynamoDB table."""

    item_cls: type

    def _item(self, doc: dict, extra: dict) -> object:
        attrs = {self.key_attr: doc[self.key_attr], "version": doc["version"], "doc": doc, **extra}
        for attr in ("district_code", "operator_id", "lot_id"):
            if attr in self.item_cls.get_attributes() and attr not in attrs:
                attrs[attr] = doc.get(attr)
        return self.item_cls(**attrs)

    def _load(self, key: str) -> dict | None:
        ahead = read_ahead.take(self.item_cls, key)  # issue 10: the device request's batched read
        if ahead is not read_ahead.MISS:
            return ahead.doc if ahead is not None else None
        try:
            return self.item_cls.get(key, consistent_read=True).doc
        except DoesNotExist:
            return None

    def _put(self, doc: dict, expected_version: int | None, extra: dict) -> bool:
        key = getattr(self.item_cls, self.key_attr)
        condition = key.does_not_exist() if expected_version is None else self.item_cls.version == expected_version
        return save_if(self._item(doc, extra), condition)


class OperatorStore(_VersionedStore[Operator]):
    record_cls, item_cls, key_attr, kind = Operator, OperatorItem, "operator_id", "operator"

    def list(self, district_code: str | None = None) -> list[Operator]:
        cond = OperatorItem.district_code == district_code if district_code else None
        return [Operator.model_validate(i.doc) for i in OperatorItem.scan(filter_condition=cond)]


class LotStore(_VersionedStore[Lot]):
    record_cls, item_cls, key_attr, kind = Lot, LotItem, "lot_id", "lot"

    def list(self, district_code: str | None = None, operator_id: str | None = None) -> list[Lot]:
        if district_code:
            items = LotItem.by_district.query(district_code)
        elif operator_id:
            items = LotItem.by_operator.query(operator_id)
        else:
            items = LotItem.scan()
        return [Lot.model_validate(i.doc) for i in items]


class DeviceStore(_VersionedStore[Device]):
    record_cls, item_cls, key_attr, kind = Device, DeviceItem, "device_id", "device"

    def get_with_secret(self, device_id: str) -> tuple[Device, str] | None:
        item = read_ahead.take(DeviceItem, device_id)
        if item is None:
            return None
        if item is read_ahead.MISS:
            try:
                item = DeviceItem.get(device_id, consistent_read=True)
            except DoesNotExist:
                return None
        return Device.model_validate(item.doc), item.secret_ciphertext

    def require_with_secret(self, device_id: str) -> tuple[Device, str]:
        found = self.get_with_secret(device_id)
        if found is None:
            raise NotFound(f"device {device_id} is not registered", code="unknown_device")
        return found

    def list(self, lot_id: str | None = None) -> list[Device]:
        items = DeviceItem.by_lot.query(lot_id) if lot_id else DeviceItem.scan()
        return [Device.model_validate(i.doc) for i in items]
