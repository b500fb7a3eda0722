"""The registry's ports: versioned records of operators, lots and devices, and the device-secret vault."""

from __future__ import annotations

from typing import Protocol, TypeVar

from shared.registry.model import Device, Lot, Operator

R = TypeVar("R")


class VersionedRecords(Protocol[R]):
    """Contract (``tests/contracts/test_registry.py``): ``create`` stores version 1 only if the key is free
    (else ``Conflict`` ``already_exists``); ``replace(record, n)`` stores version n + 1 only if the stored
    version is still n (else ``Conflict`` ``version_conflict`` with ``current_version``, or ``NotFound`` if it
    never existed); ``require`` raises ``NotFound`` (``unknown_<kind>``). Reads are strongly consistent.
    ``stored_at`` (ISO 8601 with offset, optional): when this version was stored, kept beside it (and on its
    table's stream, so the archive knows from when each version was in force: issue 12's replay)."""

    def get(self, key: str) -> R | None: ...

    def require(self, key: str) -> R: ...

    def create(self, record: R, *, stored_at: str | None = None) -> R: ...

    def replace(self, record: R, expected_version: int, *, stored_at: str | None = None) -> R: ...


class OperatorStore(VersionedRecords[Operator], Protocol):
    def list(self, district_code: str | None = None) -> list[Operator]: ...


class LotStore(VersionedRecords[Lot], Protocol):
    def list(self, district_code: str | None = None, operator_id: str | None = None) -> list[Lot]: ...


class DeviceStore(Protocol):
    """As ``VersionedRecords``, and each device is stored with its sealed secret (never the secret)."""

    def get(self, key: str) -> Device | None: ...

    def require(self, key: str) -> Device: ...

    def create(self, record: Device, *, secret_ciphertext: str) -> Device: ...

    def replace(self, record: Device, expected_version: int, *, secret_ciphertext: str) -> Device: ...

    def get_with_secret(self, device_id: str) -> tuple[Device, str] | None: ...

    def require_with_secret(self, device_id: str) -> tuple[Device, str]: ...

    def list(self, lot_id: str | None = None) -> list[Device]: ...


class SecretVault(Protocol):
    """Seals a device's signing secret for storage and reveals it to check a signature; a sealed secret is
    bound to its device (revealing it for another device fails)."""

    def seal(self, device_id: str, secret: str) -> str: ...

    def reveal(self, device_id: str, ciphertext: str) -> str: ...
