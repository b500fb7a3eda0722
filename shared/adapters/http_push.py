"""The city push's HTTP transport and its target from configuration: the standard library only, so the
memory stores use them too (no AWS import)."""

from __future__ import annotations

import os
import urllib.error
import urllib.request

from shared.citypush.ports import Target


class HttpTransport:
    """POST over HTTP(S) with the standard library: a push is one small request; no pool is worth it."""

    def send(self, url: str, body: bytes, headers: dict[str, str], timeout_s: float) -> tuple[int | None, str | None]:
        request = urllib.request.Request(url, data=body, headers=headers, method="POST")
        try:
            with urllib.request.urlopen(request, timeout=timeout_s) as response:  # noqa: S310 (configured URL)
                return response.status, None
        except urllib.error.HTTPError as exc:
            return exc.code, f"HTTP {exc.code}"
        except (urllib.error.URLError, TimeoutError, OSError) as exc:
            return None, f"unreachable: {getattr(exc, 'reason', exc)}"


def push_target() -> Target:
    """From the environment: ``TONGTING_CITY_PUSH_URL`` (unset: pushes wait), ``TONGTING_CITY_PUSH_KEY_ID`` and
    ``TONGTING_CITY_PUSH_SECRET`` (the HMAC key agreed with the city data bureau, set by ops)."""
    return Target(
        url=os.environ.get("TONGTING_CITY_PUSH_URL") or None,
        key_id=os.environ.get("TONGTING_CITY_PUSH_KEY_ID", "tongting-platform"),
        secret=os.environ.get("TONGTING_CITY_PUSH_SECRET", ""),
        timeout_s=float(os.environ.get("TONGTING_CITY_PUSH_TIMEOUT_S", "5")),
    )
