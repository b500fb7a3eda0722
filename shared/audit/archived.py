"""Archive lines decoded straight into typed structs (msgspec), for replaying a *verified* archive.

An archived device event was validated by the protocol models (``shared.protocol.events``) when it was
accepted, and the Merkle log proves the line unchanged since (``shared.audit.verify``), so replay need not
validate it again; what it needs is the fields, typed: the timestamp as an aware ``datetime``, the colour and
class as the protocol's enums. msgspec decodes the JSON line into these structs in one C pass (type checks
included: a wrong type is an error, not a silent default), where ``orjson.loads`` then ``decode_trusted``
built a dict and then a pydantic model (~2 µs a line against ~7 µs, ``bench/README.md``).

The structs are *data*, not rules: they carry the same fields, with the same defaults, as the protocol's
session events (``tests/audit/test_archived.py`` checks both, and that a decoded struct has the values the
validated model has), and the live planner takes them as it takes the models (it reads attributes only). A
line this module does not type (a money record, an event kind with no struct, anything malformed) is decoded
by ``orjson`` into the dict replay has always taken, and replay applies it as before.
"""

from __future__ import annotations

import typing
from collections.abc import Iterable, Iterator
from datetime import datetime
from typing import ClassVar, Union

import msgspec
import orjson

from shared.plates import PlateColour
from shared.protocol.events import DeviceEvent, VehicleClass

# gc=False: these hold strings, numbers, datetimes and enums only, so they can never be part of a cycle, and
# the collector need not track the millions a replay makes. frozen: as the protocol's models.


class ArchivedEntry(msgspec.Struct, tag="entry", tag_field="type", frozen=True, gc=False):
    type: ClassVar[str] = "entry"
    event_id: str
    lot_id: str
    occurred_at: datetime
    plate: str
    plate_colour: PlateColour
    lane: str
    vehicle_class: VehicleClass = VehicleClass.SMALL
    confidence: float = 1.0
    evidence_ref: str | None = None


class ArchivedExit(msgspec.Struct, tag="exit", tag_field="type", frozen=True, gc=False):
    type: ClassVar[str] = "exit"
    event_id: str
    lot_id: str
    occurred_at: datetime
    plate: str
    plate_colour: PlateColour
    lane: str
    vehicle_class: VehicleClass = VehicleClass.SMALL
    confidence: float = 1.0
    evidence_ref: str | None = None
    etc_obu: bool = False
    opened_manually: bool = False


class ArchivedBerthStart(msgspec.Struct, tag="berth_start", tag_field="type", frozen=True, gc=False):
    type: ClassVar[str] = "berth_start"
    event_id: str
    lot_id: str
    occurred_at: datetime
    plate: str
    plate_colour: PlateColour
    berth: str
    vehicle_class: VehicleClass = VehicleClass.SMALL
    confidence: float = 1.0
    evidence_ref: str | None = None


class ArchivedBerthEnd(msgspec.Struct, tag="berth_end", tag_field="type", frozen=True, gc=False):
    type: ClassVar[str] = "berth_end"
    event_id: str
    lot_id: str
    occurred_at: datetime
    plate: str
    plate_colour: PlateColour
    berth: str
    vehicle_class: VehicleClass = VehicleClass.SMALL
    confidence: float = 1.0
    evidence_ref: str | None = None


SESSION_EVENTS = (ArchivedEntry, ArchivedExit, ArchivedBerthStart, ArchivedBerthEnd)


def _other_kinds() -> tuple[type, ...]:
    """A fieldless struct per other kind of device event (heartbeats, occupancy, ...), named by the protocol's
    own ``type`` literals, so that their lines decode here too (replay only counts them) and a new kind of
    event needs nothing added here."""
    session = {cls.type for cls in SESSION_EVENTS}
    union = typing.get_args(DeviceEvent)[0]
    kinds = [typing.get_args(m.model_fields["type"].annotation)[0] for m in typing.get_args(union)]
    return tuple(
        msgspec.defstruct(f"Archived_{kind}", [], tag=kind, tag_field="type", frozen=True, gc=False,
                          namespace={"type": kind})  # fmt: skip
        for kind in kinds
        if kind not in session
    )


class ArchivedRecord(msgspec.Struct, gc=False, omit_defaults=True):  # omit: as read, for to_builtins
    """One line of ``events/...jsonl`` (``shared.archive``): the event and when it was accepted. ``record`` is
    set on the other archived lines (money records, registry versions): those are read as dicts."""

    lot_id: str = ""
    accepted_at: str | None = None
    event: Union[SESSION_EVENTS + _other_kinds()] | None = None  # noqa: UP007 - a union built from a tuple
    record: str | None = None


_DECODE = msgspec.json.Decoder(ArchivedRecord).decode
_FALLBACK = (msgspec.ValidationError, msgspec.DecodeError)


def decode_line(line: bytes) -> ArchivedRecord | dict:
    """A line of a verified archive: an ``ArchivedRecord``, or (money records, lines that do not fit the
    structs) the dict ``orjson`` decodes, which replay applies as before. Malformed JSON raises as
    ``orjson.loads`` does."""
    try:
        record = _DECODE(line)
    except _FALLBACK:
        return orjson.loads(line)
    return record if record.record is None else orjson.loads(line)


def decode_lines(lines: Iterable[bytes]) -> Iterator[ArchivedRecord | dict]:
    """``decode_line`` over lines, blank ones skipped (``map``/``filter``: no Python frame per line)."""
    return map(decode_line, filter(bytes.strip, lines))
