"""Registration (备案) and change of operators, lots and devices, with district scoping."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from shared import access
from shared.auth import Principal, Role
from shared.clock import Clock, iso
from shared.errors import Conflict, Forbidden, InvalidInput
from shared.protocol import signing
from shared.registry.ports import DeviceStore, LotStore, OperatorStore, SecretVault
from shared.registry.model import (
    DISTRICTS,
    LEGACY_PAY_CODE_REQUIRED,
    Device,
    DeviceKind,
    Identifier,
    Lot,
    LotKind,
    Operator,
    PayCode,
)


class DeviceRegistration(BaseModel):
    """What a caller sends to register a device; the district follows from the lot."""

    model_config = ConfigDict(extra="forbid")
    device_id: Identifier
    kind: DeviceKind
    lot_id: Identifier | None = None
    district_code: str | None = None
    lane: str | None = Field(None, max_length=32)


class DeviceWithSecret(BaseModel):
    device: Device
    secret: str = Field(description="Shown once: store it in the device; the platform keeps it encrypted.")


def parse(model: type[BaseModel], data: object, code: str = "invalid_record"):
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        details = [{"field": ".".join(map(str, e["loc"])), "error": e["msg"]} for e in exc.errors()]
        raise InvalidInput(f"invalid {model.__name__.lower()}", code=code, errors=details) from None


def _require_writer(principal: Principal) -> None:
    if principal.role not in (Role.CITY_ADMIN, Role.DISTRICT_ADMIN, Role.DISTRICT_PLATFORM):
        raise Forbidden(f"{principal.role.value} may not change the registry", code="role_forbidden")


class RegistryService:
    def __init__(self, operators: OperatorStore, lots: LotStore, devices: DeviceStore, vault: SecretVault,
                 clock: Clock | None = None):  # fmt: skip
        self.operators, self.lots, self.devices, self._vault = operators, lots, devices, vault
        self._clock = clock

    def _stamp(self) -> dict:
        """When a lot or operator version is stored: replay uses the version in force at each event (issue 12)."""
        return {"stored_at": iso(self._clock.now())} if self._clock is not None else {}

    # Operators
    def register_operator(self, principal: Principal, data: dict) -> Operator:
        _require_writer(principal)
        operator = parse(Operator, {**data, "version": 1})
        principal.require_district_write(operator.district_code)
        return self.operators.create(operator, **self._stamp())

    def update_operator(self, principal: Principal, operator_id: str, data: dict) -> Operator:
        _require_writer(principal)
        current = self.get_operator(principal, operator_id)
        access.require_operator_change(principal, current, self._lot_districts(operator_id))
        operator = parse(Operator, {**data, "operator_id": operator_id})
        principal.require_district_write(operator.district_code)
        return self.operators.replace(operator, expected_version=operator.version, **self._stamp())

    def get_operator(self, principal: Principal, operator_id: str) -> Operator:
        access.require_staff(principal)
        operator = self.operators.require(operator_id)
        if not access.may_read_operator(principal, operator, self._lot_districts(operator_id)):
            raise Forbidden(f"{principal.subject} may not read operator {operator_id}", code="district_forbidden")
        return operator

    def districts(self, principal: Principal) -> dict[str, str]:
        """The city's districts, code -> name."""
        access.require_district_list_read(principal)
        return dict(DISTRICTS)

    def list_operators(self, principal: Principal) -> list[Operator]:
        access.require_staff(principal)
        districts: dict[str, set[str]] = {}
        for lot in self.lots.list():
            districts.setdefault(lot.operator_id, set()).add(lot.district_code)
        return [o for o in self.operators.list() if access.may_read_operator(principal, o, districts.get(o.operator_id, ()))]

    def _lot_districts(self, operator_id: str) -> set[str]:
        return {lot.district_code for lot in self.lots.list(operator_id=operator_id)}

    # Lots
    def register_lot(self, principal: Principal, data: dict) -> Lot:
        _require_writer(principal)
        lot = parse(Lot, {**data, "version": 1, "scenario_policies": False})
        principal.require_district_write(lot.district_code)
        self._check_lot(lot)
        return self.lots.create(lot, **self._stamp())

    def update_lot(self, principal: Principal, lot_id: str, data: dict) -> Lot:
        _require_writer(principal)
        current = self.lots.require(lot_id)
        principal.require_district_write(current.district_code)
        lot = parse(Lot, {**data, "lot_id": lot_id, "scenario_policies": current.scenario_policies})
        principal.require_district_write(lot.district_code)  # moving a lot needs both districts
        if lot.kind is not current.kind:
            raise InvalidInput("a lot's kind cannot change; register a new lot", code="lot_kind_immutable")
        self._check_lot(lot)
        return self.lots.replace(lot, expected_version=lot.version, **self._stamp())

    def flag_scenarios(self, lot_id: str) -> Lot:
        """Issue 13: mark the lot as having a scenario policy, before the policy is saved (a flag without a
        policy costs a few reads; a policy without the flag would be ignored). Set once, never cleared;
        idempotent; a concurrent change of the lot is read again."""
        for _ in range(6):
            lot = self.lots.require(lot_id)
            if lot.scenario_policies:
                return lot
            try:
                flagged = lot.model_copy(update={"scenario_policies": True})
                return self.lots.replace(flagged, expected_version=lot.version, **self._stamp())
            except Conflict:
                continue
        raise Conflict(f"lot {lot_id} keeps changing; retry", code="contention")

    def get_lot(self, principal: Principal, lot_id: str) -> Lot:
        access.require_staff(principal)
        lot = self.lots.require(lot_id)
        if not access.may_read_lot(principal, lot):
            raise Forbidden(f"{principal.subject} may not read lot {lot_id}", code="district_forbidden")
        return lot

    def list_lots(self, principal: Principal, district_code: str | None = None) -> list[Lot]:
        if district_code and district_code not in DISTRICTS:
            raise InvalidInput(f"unknown district {district_code}", code="unknown_district")
        access.require_staff(principal)
        if principal.role is Role.OPERATOR:
            lots = self.lots.list(operator_id=principal.operator_id)
        else:
            lots = self.lots.list(district_code=access.district_scope(principal, district_code))
        return [lot for lot in lots if access.may_read_lot(principal, lot) and (not district_code or lot.district_code == district_code)]

    def _check_lot(self, lot: Lot) -> None:
        self.operators.require(lot.operator_id)
        if lot.district_code in LEGACY_PAY_CODE_REQUIRED and lot.kind is LotKind.ENCLOSED:
            if set(lot.pay_codes) != {PayCode.UNIFIED, PayCode.LEGACY}:
                raise InvalidInput(
                    "enclosed lots in Jiangyin and Yixing keep their legacy pay code beside the unified one",
                    code="legacy_pay_code_required",
                )

    # Devices
    def register_device(self, principal: Principal, data: dict) -> DeviceWithSecret:
        _require_writer(principal)
        reg = parse(DeviceRegistration, data)
        device = parse(Device, {**reg.model_dump(), "district_code": self._device_district(reg), "version": 1})
        principal.require_district_write(device.district_code)
        secret = signing.new_secret()
        stored = self.devices.create(device, secret_ciphertext=self._vault.seal(device.device_id, secret))
        return DeviceWithSecret(device=stored, secret=secret)

    def update_device(self, principal: Principal, device_id: str, data: dict) -> Device:
        """Lane and active flag only: moving a device to another lot is a new registration."""
        _require_writer(principal)
        current, ciphertext = self.devices.require_with_secret(device_id)
        principal.require_district_write(current.district_code)
        version = data.get("version")
        if not isinstance(version, int):
            raise InvalidInput("version (the one this update is based on) is required", code="version_required")
        unknown = set(data) - {"lane", "active", "version"}
        if unknown:
            raise InvalidInput(f"only lane and active can change, not {sorted(unknown)}", code="device_field_immutable")
        changed = current.model_copy(update={k: data[k] for k in ("lane", "active") if k in data})
        parse(Device, changed.model_dump())
        return self.devices.replace(changed, expected_version=version, secret_ciphertext=ciphertext)

    def rotate_secret(self, principal: Principal, device_id: str, version: int) -> DeviceWithSecret:
        _require_writer(principal)
        current = self.devices.require(device_id)
        principal.require_district_write(current.district_code)
        secret = signing.new_secret()
        stored = self.devices.replace(
            current, expected_version=version, secret_ciphertext=self._vault.seal(device_id, secret)
        )
        return DeviceWithSecret(device=stored, secret=secret)

    def get_device(self, principal: Principal, device_id: str) -> Device:
        access.require_staff(principal)
        device = self.devices.require(device_id)
        lot = self.lots.get(device.lot_id) if device.lot_id else None
        if not access.may_read_device(principal, device, lot.operator_id if lot else None):
            raise Forbidden(f"{principal.subject} may not read device {device_id}", code="district_forbidden")
        return device

    def list_devices(self, principal: Principal, lot_id: str) -> list[Device]:
        lot = self.get_lot(principal, lot_id)
        return self.devices.list(lot_id=lot.lot_id)

    def _device_district(self, reg: DeviceRegistration) -> str | None:
        if reg.kind is DeviceKind.DISTRICT_GATEWAY:
            return reg.district_code
        if reg.lot_id is None:
            raise InvalidInput("a device is bound to a lot", code="lot_required")
        return self.lots.require(reg.lot_id).district_code

