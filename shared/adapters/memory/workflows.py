"""A fake of the Workflows port that records what the services ask for, so a test can run a workflow's
tasks itself (``tests/contracts/test_workflows.py`` holds it to the port's contract)."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field

from shared.adapters.memory.db import LOCK


@dataclass
class Started:
    logical: str
    name: str
    payload: dict


@dataclass
class Workflows:
    started: dict[tuple[str, str], Started] = field(default_factory=dict)
    woken: list[tuple[str, dict]] = field(default_factory=list)
    waiting: set[str] = field(default_factory=set)  # tokens a test handed to a waiting task
    _ids: itertools.count = field(default_factory=itertools.count)

    def start(self, logical: str, name: str, payload: dict) -> None:
        with LOCK:
            self.started.setdefault((logical, name), Started(logical, name, dict(payload)))

    def wake(self, token: str, output: dict) -> bool:
        with LOCK:
            if token not in self.waiting:
                return False  # spent, or never issued
            self.waiting.discard(token)
            self.woken.append((token, dict(output)))
        return True

    # For tests driving a workflow's tasks
    def token(self, name: str) -> str:
        """A task token of a waiting task, as Step Functions would hand to it."""
        token = f"token-{name}-{next(self._ids)}"
        self.waiting.add(token)
        return token

    def runs(self, logical: str) -> list[Started]:
        return [s for (wf, _), s in self.started.items() if wf == logical]
