"""The replay of ``bench.bench_replay`` (a verified archive, flat) over an archive's first lines, with a digest of
everything it computed (events, sessions charged, fen, totals per operator and day, fingerprints, skips) and its
rate per CPU second: run it once with the source tree and once with a compiled one (``build.sh``) on the same
archive, and the digests must be equal. It names the modules that were imported compiled.

    PYTHONPATH=TREE .venv/bin/python -m bench.compiled.digest ARCHIVE [--events N] [--struct-sessions]

``--struct-sessions`` is the fifth round's prototype (bench/README.md), not the product: the planner builds its
sessions as a ``msgspec.Struct`` with the model's fields instead of the pydantic ``ParkingSession``.
"""

from __future__ import annotations

import argparse
import hashlib
import itertools
import sys
import time
from pathlib import Path

import msgspec

from bench.bench_replay import lots
from shared.audit.archived import decode_lines
from shared.audit.replay import Replay
from shared.sessions import planner
from shared.sessions.model import ParkingSession
from shared.tariffs.engine import quote
from shared.tariffs.samples import ZHUMADIAN_CLASS1

HOT = ("shared.sessions.planner", "shared.audit.replay", "shared.tariffs.engine", "shared.clock", "shared.tariffs.quote")


def _session_struct() -> type:
    """``ParkingSession``'s fields and defaults as a struct (built from the model, so the two cannot drift), with
    what the planner and replay call on a session."""
    fields = []
    for name, f in ParkingSession.model_fields.items():
        if f.is_required():
            fields.append((name, f.annotation))
        elif f.default_factory is not None:
            fields.append((name, f.annotation, msgspec.field(default_factory=f.default_factory)))
        else:
            fields.append((name, f.annotation, f.default))
    namespace = {
        "trusted_from": classmethod(lambda cls, values: cls(**values)),
        "evolved": lambda self, **changes: msgspec.structs.replace(self, **changes),
        "subject": property(ParkingSession.subject.fget),
    }
    return msgspec.defstruct("SessionStruct", fields, kw_only=True, namespace=namespace)


SessionStruct = _session_struct()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("archive", type=Path)
    parser.add_argument("--events", type=int, default=None, help="the archive's first N lines (default: all)")
    parser.add_argument("--struct-sessions", action="store_true")
    args = parser.parse_args(argv)
    lot_map = lots(200)
    if args.struct_sessions:
        planner.ParkingSession = SessionStruct  # the planner's global (compiled, mypyc reads it from the module too)

    def price(lot, entered_at, until, session):
        return quote(ZHUMADIAN_CLASS1, entered_at, until, session.vehicle_class, session.plate_colour, itemised=False)

    replay = Replay(lot_map, price, trusted=True, keep=frozenset())
    with args.archive.open("rb") as f:
        cpu = time.process_time()
        replay.run(itertools.islice(decode_lines(f), args.events))
        cpu = time.process_time() - cpu
    state = (replay.events, replay.sessions_charged, replay.replayed_fen, sorted(replay.totals.items()),
             sorted(replay.fingerprints.items()), sorted(replay.skipped.items()))  # fmt: skip
    compiled = [name for name in HOT if not sys.modules[name].__file__.endswith(".py")]
    print(f"events={replay.events} charged={replay.sessions_charged} fen={replay.replayed_fen} "
          f"digest={hashlib.sha256(repr(state).encode()).hexdigest()[:16]} cpu_s={cpu:.3f} "
          f"events_per_cpu_s={replay.events / cpu:.0f} compiled={','.join(compiled) or 'none'}")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
