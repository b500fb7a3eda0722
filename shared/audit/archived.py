"""Archive lines decoded straight into typed structs (msgspec), for replaying a *verified* archive.

An archived device event was validated by the protocol models (``shared.protocol.events``) when it was
accepted, and the Merkle log proves the line unchanged since (``shared.audit.verify``), so replay need not
validate it again; what it needs is the fields, typed: the timestamp as an aware ``datetime``, the colour and
class as the protocol's enums. msgspec decodes the JSON line into these structs in one C pass (type checks
included: a wrong type is an error, not a silent default), where ``orjson.loads`` then ``decode_trusted``
built a dict and then a pydantic model (~2 µs a line against ~7 µs, ``bench/README.md``).

The structs are *data*, not rules: they are built from the protocol's session events, with the same fields
and defaults (``tests/audit/test_archived.py`` checks both, and that a decoded struct has the values the
validated model has), and the live planner takes them as it takes the models (it reads attributes only). A
line this module does not type (a money record, an event kind with no struct, anything malformed) is decoded
by ``orjson`` into the dict replay has always taken, and replay applies it as before.
"""

from __future__ import annotations

import typing
from collections.abc import Iterable, Iterator
from datetime import datetime
from typing import Union

import msgspec
import orjson
from pydantic import AwareDatetime

from shared.protocol.events import BerthEndEvent, BerthStartEvent, DeviceEvent, EntryEvent, ExitEvent

# gc=False: these hold strings, numbers, datetimes and enums only, so they can never be part of a cycle, and
# the collector need not track the millions a replay makes. frozen: as the protocol's models.
_STRUCT = {"tag_field": "type", "frozen": True, "gc": False}


def _session_struct(model: type) -> type:
    """The struct of a session event: the protocol model's fields (but ``type``, the tag), its defaults, and
    its types with pydantic's ``AwareDatetime`` as a ``datetime`` (msgspec keeps the offset it was written
    with); ``type`` as a class constant. Built from the model, so the two cannot drift apart."""
    kind = typing.get_args(model.model_fields["type"].annotation)[0]
    fields = [
        (name, datetime if f.annotation is AwareDatetime else f.annotation,
         *(() if f.is_required() else (f.default,)))
        for name, f in model.model_fields.items() if name != "type"
    ]  # fmt: skip
    name = f"Archived{model.__name__.removesuffix('Event')}"
    return msgspec.defstruct(name, fields, tag=kind, kw_only=True, namespace={"type": kind}, **_STRUCT)


SESSION_EVENTS = tuple(_session_struct(m) for m in (EntryEvent, ExitEvent, BerthStartEvent, BerthEndEvent))


def _other_kinds() -> tuple[type, ...]:
    """A fieldless struct per other kind of device event (heartbeats, occupancy, ...), named by the protocol's
    own ``type`` literals, so that their lines decode here too (replay only counts them) and a new kind of
    event needs nothing added here."""
    session = {cls.type for cls in SESSION_EVENTS}
    union = typing.get_args(DeviceEvent)[0]
    kinds = [typing.get_args(m.model_fields["type"].annotation)[0] for m in typing.get_args(union)]
    return tuple(
        msgspec.defstruct(f"Archived_{kind}", [], tag=kind, namespace={"type": kind}, **_STRUCT)
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
