"""Citizens sign in with their phone: a 6-digit code by text message, exchanged for a citizen token.

The challenge is stateless: an HMAC (with the token-signing key) over the phone, the code and the expiry,
so no store is needed and a leaked challenge does not reveal the code. In AWS the same flow is Cognito's
custom auth; locally the text goes to the sandbox's SMS inbox. The account id is a hash of the phone,
so tokens and logs never carry the number.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Callable
from datetime import timedelta
from typing import Protocol

from shared import tokens
from shared.auth import Role
from shared.citizens.model import new_code
from shared.clock import Clock
from shared.errors import InvalidInput, Unauthenticated

CODE_TTL = timedelta(minutes=5)
SESSION_TTL = timedelta(hours=12)
_PHONE = re.compile(r"^1[3-9]\d{9}$")


class TextMessages(Protocol):
    """Sends a login code to a mobile number (an SMS gateway; the sandbox keeps it for the local inbox)."""

    def send_login_code(self, phone: str, code: str) -> None: ...


def _phone(raw: object) -> str:
    phone = re.sub(r"[\s-]", "", str(raw or "")).removeprefix("+86")
    if not _PHONE.match(phone):
        raise InvalidInput("give a mainland mobile number: 11 digits starting with 1", code="bad_phone")
    return phone


def account_id_of(phone: str) -> str:
    return "cit-" + hashlib.sha256(phone.encode()).hexdigest()[:20]


class PhoneLogin:
    def __init__(self, key: Callable[[], str], texts: TextMessages, clock: Clock) -> None:
        self._key, self._texts, self._clock = key, texts, clock

    def _mac(self, phone: str, code: str, expires: int) -> str:
        return hmac.new(self._key().encode(), f"login\x00{phone}\x00{code}\x00{expires}".encode(), hashlib.sha256).hexdigest()

    def send_code(self, raw_phone: object) -> dict:
        phone, code = _phone(raw_phone), new_code()
        expires = int((self._clock.now() + CODE_TTL).timestamp())
        self._texts.send_login_code(phone, code)
        return {"challenge": f"{expires}.{self._mac(phone, code, expires)}", "expires_in_s": int(CODE_TTL.total_seconds())}

    def sign_in(self, raw_phone: object, code: object, challenge: object) -> dict:
        phone = _phone(raw_phone)
        try:
            expires_text, mac = str(challenge or "").split(".", 1)
            expires = int(expires_text)
        except ValueError:
            raise InvalidInput("the challenge is malformed: ask for a new code", code="bad_challenge") from None
        if expires <= self._clock.now().timestamp():
            raise Unauthenticated("the code expired: ask for a new one", code="code_expired")
        if not hmac.compare_digest(mac, self._mac(phone, str(code or "").strip(), expires)):
            raise Unauthenticated("wrong code", code="wrong_code")
        subject = account_id_of(phone)
        token = tokens.mint(self._key(), subject=subject, role=Role.CITIZEN, now=self._clock.now(), ttl=SESSION_TTL)
        return {"token": token, "account_id": subject, "expires_in_s": int(SESSION_TTL.total_seconds())}
