"""The seam between a lot's own management system and protocol v1.

Many lots already run a vendor parking system that pushes its own JSON. An adapter turns one such push
into protocol v1 event dicts; the caller validates each with ``DeviceEvent`` exactly as if a device had
sent it, so content errors (a misread plate, free > total) become per-event rejections, not lost pushes.
An adapter raises only when it cannot map the payload at all.
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

from shared.errors import InvalidInput

PAYLOAD_INVALID = "adapter_payload_invalid"


@runtime_checkable
class LotSystemAdapter(Protocol):
    name: str

    def to_events(self, payload: dict, *, lot_id: str) -> list[dict]:
        """Protocol v1 event dicts for ``lot_id`` (the pushing device's lot), ready for ``DeviceEvent``.

        Event ids must be deterministic from the vendor record, so a vendor resend is a duplicate.
        Raises ``InvalidInput(code="adapter_payload_invalid")`` on a payload it cannot map.
        """
        ...


def invalid(message: str, **details: object) -> InvalidInput:
    return InvalidInput(message, code=PAYLOAD_INVALID, **details)
