"""Serialises moto's request handling: moto's backends are not thread-safe.

Under the threaded HTTP server, a DynamoDB query iterating a table while another thread put an item
failed with "dictionary changed size during iteration" (2 requests in 10,000 in the ingest benchmark).
DynamoDB serialises per item itself; locally one re-entrant lock around each moto request gives the
same outcome. It is re-entrant because a Step Functions task calls Lambda, which calls our handler,
which calls DynamoDB, all on one thread.
"""

from __future__ import annotations

import threading

from moto.core.responses import BaseResponse

_lock = threading.RLock()
_original = BaseResponse._dispatch


def _dispatch(self, request, full_url=None, headers=None):
    with _lock:
        return _original(self, request, full_url, headers)


def install() -> None:
    BaseResponse._dispatch = _dispatch
