"""On a fresh clone both xdist workers collect the whole suite at the same time, and each rewrites the asserts of
every test module (~2.4 s of CPU a worker) because neither has found the other's cached rewrite yet. Here the
second worker writes those caches from the LAST module backwards before it collects, while the first collects
from the first: they meet about half way, and each then finds the other's half cached (pytest's own rewrite and
cache file, written atomically, checked against the source's hash when read), so the suite rewrites every module
about once. A worker that finds a module already cached has met the other one and stops; with the caches there
(a second run) it stops at once, and where bytecode is not written (PYTHONDONTWRITEBYTECODE) it does nothing.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path


def _in_collection_order(root: Path) -> list[Path]:
    """The test modules and conftests under ``root``, in the order pytest collects them (directory entries by
    name, depth first)."""
    out: list[Path] = []
    for entry in sorted(os.scandir(root), key=lambda e: e.name):
        if entry.is_dir() and entry.name != "__pycache__" and not entry.name.startswith("."):
            out += _in_collection_order(Path(entry.path))
        elif entry.name.endswith(".py") and (entry.name.startswith("test_") or entry.name == "conftest.py"):
            out.append(Path(entry.path))
    return out


def modules_of(args: list[str], rootpath: Path) -> list[Path]:
    """The test modules and conftests the command line's arguments (directories, files, node ids) collect."""
    out: list[Path] = []
    for arg in args:
        path = (rootpath / arg.split("::")[0]).resolve()
        if path.is_dir():
            out += _in_collection_order(path)
        elif path.is_file() and path not in out:
            out.append(path)
    return out


def rewrite_from_the_end(config, modules: list[Path]) -> int:
    """Write the cached rewrites of ``modules`` (in collection order), last first, until one is found cached
    already. Returns how many were written."""
    if sys.dont_write_bytecode:
        return 0
    try:  # pytest's own machinery (the same calls as its import hook); an older or newer pytest: nothing done
        from _pytest.assertion.rewrite import (
            PYC_TAIL,
            _read_pyc,
            _rewrite_test,
            _write_pyc,
            assertstate_key,
            get_cache_dir,
            try_makedirs,
        )

        state = config.stash[assertstate_key]
    except (ImportError, KeyError):
        return 0
    written = 0
    try:
        for fn in reversed(modules):
            cache_dir = get_cache_dir(fn)
            if not try_makedirs(cache_dir):
                return written
            pyc = cache_dir / (fn.name[:-3] + PYC_TAIL)
            if _read_pyc(fn, pyc, state.trace) is not None:  # the other worker got here (or an earlier run did)
                return written
            source_hash, co = _rewrite_test(fn, config)
            _write_pyc(state, co, source_hash, pyc)
            written += 1
    except (TypeError, AttributeError):  # the private calls changed in another pytest: its import hook rewrites
        pass
    except SyntaxError:  # a broken module: its collection reports the error
        pass
    return written
