"""Versioned records (operators, lots, devices, tariffs): the rules in one base, a thin subclass per backend
(as Powertools' idempotency persistence layer does). A backend supplies two primitives: read a record's
document, and put one conditionally (absent, or still at the expected version)."""

from __future__ import annotations

from typing import Generic, TypeVar

from pydantic import BaseModel

from shared.errors import Conflict, NotFound

R = TypeVar("R", bound=BaseModel)


class Lookup(Generic[R]):
    """``require`` over a backend's ``get``: one not-found error per kind of record, whatever the backend."""

    kind: str
    missing = "is not registered"

    def get(self, key: str) -> R | None:
        raise NotImplementedError

    def require(self, key: str) -> R:
        record = self.get(key)
        if record is None:
            raise NotFound(f"{self.kind} {key} {self.missing}", code=f"unknown_{self.kind}")
        return record


class VersionedRecords(Lookup[R]):
    record_cls: type[R]
    key_attr: str

    # The backend's primitives
    def _load(self, key: str) -> dict | None:
        raise NotImplementedError

    def _put(self, doc: dict, expected_version: int | None, extra: dict) -> bool:
        """Store ``doc`` if the key is free (``expected_version`` None) or still at ``expected_version``."""
        raise NotImplementedError

    # The contract (shared.registry.ports.VersionedRecords)
    def get(self, key: str) -> R | None:
        doc = self._load(key)
        return self.record_cls.model_validate(doc) if doc is not None else None

    def create(self, record: R, **extra) -> R:
        doc = record.model_copy(update={"version": 1}).model_dump(mode="json")
        if not self._put(doc, None, extra):
            raise Conflict(f"{self.kind} {doc[self.key_attr]} already exists", code="already_exists")
        return self.record_cls.model_validate(doc)

    def replace(self, record: R, expected_version: int, **extra) -> R:
        """Store ``record`` as version ``expected_version + 1`` if the stored one is still ``expected_version``."""
        new = record.model_copy(update={"version": expected_version + 1})
        doc = new.model_dump(mode="json")
        if not self._put(doc, expected_version, extra):
            current = self.require(doc[self.key_attr])  # NotFound if it never existed
            raise Conflict(
                f"{self.kind} changed since version {expected_version} (now {current.version})",
                code="version_conflict",
                current_version=current.version,
            )
        return new
