"""A citizen's bills a page at a time (issue 10, fourth part): the newest first, ``PAGE`` at a time, and an
opaque cursor naming the last bill shown, so a list read costs no more after 200 sessions than after four."""

from __future__ import annotations

import base64
import binascii
import json
import re
from dataclasses import dataclass
from datetime import datetime

from shared.errors import InvalidInput

# Four bills a page. The index holds keys only (a paid bill's update writes nothing to it): the page reads
# PAGE + 1 keys (the one more tells whether a next page exists, ``BillingService.page_of_plates``) and then its
# bills by id, eventually consistent, 0.5 RRU each: a page costs the same for a citizen with four bills as
# with two hundred; one with fewer bills reads fewer (bench/README.md, issue 10).
PAGE = 4
MAX_PAGE = 50  # the bound the list had before it was paged
_BILL_ID = re.compile(r"^[A-Za-z0-9_.:-]{1,80}$")


@dataclass(frozen=True, order=True)
class BillCursor:
    """Where the next page starts: after the bill (created_at, bill_id), in newest-first order."""

    created_at: datetime
    bill_id: str

    def encode(self) -> str:
        raw = json.dumps([self.created_at.isoformat(), self.bill_id], separators=(",", ":")).encode()
        return base64.urlsafe_b64encode(raw).decode().rstrip("=")

    @classmethod
    def decode(cls, text: str) -> BillCursor:
        """The cursor a previous page returned; anything else is a 400 ``bad_cursor``."""
        try:
            if len(text) > 200:
                raise ValueError("too long")
            at, bill_id = json.loads(base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)))
            created_at = datetime.fromisoformat(at)
            if created_at.tzinfo is None or not isinstance(bill_id, str) or not _BILL_ID.match(bill_id):
                raise ValueError("bad shape")
        except (ValueError, TypeError, binascii.Error, UnicodeDecodeError) as exc:
            raise InvalidInput("cursor: pass back the next_cursor of the previous page", code="bad_cursor") from exc
        return cls(created_at, bill_id)


def page_size(text: str | None) -> int:
    """``?limit=``: 1 to ``MAX_PAGE`` (default ``PAGE``); anything else is a 400 ``bad_limit``."""
    if text is None or text == "":
        return PAGE
    if not text.isdigit() or not 1 <= int(text) <= MAX_PAGE:
        raise InvalidInput(f"limit: a whole number from 1 to {MAX_PAGE}", code="bad_limit")
    return int(text)
