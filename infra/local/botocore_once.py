"""One botocore data loader per process (per data path) for ``make run``: every botocore ``Session`` builds a
loader of its own, and each loader reads and parses botocore's JSON files again, endpoints.json first (a
megabyte of JSON, ~0.1-0.2 s each time). A ``make run`` process made eight sessions before it served: X-Ray's
recorder two at import, boto3 one, moto one per partition lookup and three in its EC2 backend (which its SSM
backend imports), pynamodb one. Measured: 5.1-5.3 s of CPU to a provisioned, seeded stack before, 3.2-3.7 s
after (three runs each, 2-core machine).

The loader caches what it parsed (botocore's ``instance_cache``) and hands the same objects to every client
of its session, so the sessions sharing one loader share exactly what one session's clients already share.
boto3 appends its own data directory to the loader's search paths for each of its sessions: the shared
loader's list takes each path once. ``install()`` before the first session is made (``infra.local.run``
imports this module first)."""

from __future__ import annotations

import threading

import botocore.loaders
import botocore.session

_original = botocore.loaders.create_loader
_loaders: dict[str | None, botocore.loaders.Loader] = {}
_lock = threading.Lock()


class _PathsOnce(list):
    def append(self, path) -> None:
        if path not in self:
            super().append(path)


def shared_loader(search_path_string: str | None = None) -> botocore.loaders.Loader:
    with _lock:
        if search_path_string not in _loaders:
            loader = _original(search_path_string)
            loader._search_paths = _PathsOnce(loader.search_paths)
            _loaders[search_path_string] = loader
        return _loaders[search_path_string]


def install() -> None:
    botocore.session.create_loader = shared_loader


install()
