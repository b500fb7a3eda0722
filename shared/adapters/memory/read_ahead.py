"""The ``ReadAhead`` port in memory: reads cost nothing here, so nothing is read ahead; every store answers
from its dicts, as a read at ``read_ahead`` would (``tests/contracts/test_read_ahead.py``)."""

from __future__ import annotations

from shared.ingest.ports import Lookahead


class ReadAhead:
    def __init__(self) -> None:
        self.asked: list[Lookahead] = []  # what the services asked for, for tests

    def read_ahead(self, wanted: Lookahead) -> None:
        self.asked.append(wanted)

    def forget(self) -> None:
        return None
