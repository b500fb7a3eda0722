"""Citizens sign in with their phone: a 6-digit code by text message, exchanged for a citizen token.

The challenge is stateless: an HMAC (with the token-signing key) over the phone, the code and the expiry,
so a leaked challenge does not reveal the code. What a stateless challenge cannot do is count, so the limits
live in a store (``LoginCounters``, atomic conditional adds), keyed by the account id of the phone:

- code requests per phone (each one texts a real phone): ``SENDS`` per window;
- wrong codes per phone, whichever code they were meant for: ``WRONG_CODES`` per window. Asking for a new
  code does not reset them (the counter is the phone's, not the challenge's). A try is reserved before the
  code is compared, so concurrent guesses cannot overrun the budget; a right code gives its try back;
- each challenge signs in once (a replayed phone + code + challenge is refused).

Windows are fixed (the window's index is in the counter's key); a refused caller gets 429 with
``retry_after``, the shape of the plate-verification limits. In AWS the same flow is Cognito's custom auth;
locally the text goes to the sandbox's SMS inbox. The account id is a hash of the phone, so tokens, logs and
counters never carry the number.
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
from shared.citizens.ports import LoginCounters
from shared.clock import Clock
from shared.errors import InvalidInput, TooManyRequests, Unauthenticated

CODE_TTL = timedelta(minutes=5)
SESSION_TTL = timedelta(hours=12)
# (limit, window in seconds): a 6-digit code then survives at most 10 guesses a day per phone.
SENDS = ((5, 3600), (10, 86400))
WRONG_CODES = ((5, 3600), (10, 86400))
_PHONE = re.compile(r"^1[3-9]\d{9}$")
_MAC = re.compile(r"[0-9a-f]{64}")


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


def account_of_phone(raw_phone: object) -> str:
    """The account id of a phone number as written anywhere (``+86 138-...``): one phone, one account."""
    return account_id_of(_phone(raw_phone))


class PhoneLogin:
    def __init__(self, key: Callable[[], str], texts: TextMessages, counters: LoginCounters, clock: Clock) -> None:
        self._key, self._texts, self._counters, self._clock = key, texts, counters, clock

    def _take_all(self, kind: str, account_id: str, rules: tuple[tuple[int, int], ...], message: str, code: str) -> list[str]:
        """Take one from every window's counter, or none: the first full one gives the others back and
        raises 429 with the seconds until that window ends."""
        now, taken = int(self._clock.now().timestamp()), []
        for limit, window in rules:
            index = now // window
            key, ends = f"{kind}#{account_id}#{window}#{index}", (index + 1) * window
            if not self._counters.take(key, limit, ends + window):
                self._give_back(taken)
                retry_after = max(1, ends - now)
                raise TooManyRequests(f"{message}; try again in {retry_after} s", retry_after=retry_after, code=code)
            taken.append(key)
        return taken

    def _give_back(self, keys: list[str]) -> None:
        for key in keys:
            self._counters.give_back(key)

    def _mac(self, phone: str, code: str, expires: int) -> str:
        return hmac.new(self._key().encode(), f"login\x00{phone}\x00{code}\x00{expires}".encode(), hashlib.sha256).hexdigest()

    def send_code(self, raw_phone: object) -> dict:
        phone, code = _phone(raw_phone), new_code()
        self._take_all("send", account_id_of(phone), SENDS, "too many codes asked for this phone", "rate_limited")
        expires = int((self._clock.now() + CODE_TTL).timestamp())
        self._texts.send_login_code(phone, code)
        return {"challenge": f"{expires}.{self._mac(phone, code, expires)}", "expires_in_s": int(CODE_TTL.total_seconds())}

    def sign_in(self, raw_phone: object, code: object, challenge: object) -> dict:
        subject = self.check_code(raw_phone, code, challenge)
        token = tokens.mint(self._key(), subject=subject, role=Role.CITIZEN, now=self._clock.now(), ttl=SESSION_TTL)
        return {"token": token, "account_id": subject, "expires_in_s": int(SESSION_TTL.total_seconds())}

    def check_code(self, raw_phone: object, code: object, challenge: object) -> str:
        """The account id of a right, unused, unexpired code, under the same limits; the platform's sign-in
        mints its token from it, Cognito's custom auth (``functions/citizen_sign_in``) issues its own."""
        phone = _phone(raw_phone)
        try:
            expires_text, mac = str(challenge or "").split(".", 1)
            expires = int(expires_text)
        except ValueError:
            raise InvalidInput("the challenge is malformed: ask for a new code", code="bad_challenge") from None
        if not _MAC.fullmatch(mac):  # compare_digest refuses non-ASCII text with a TypeError (a 500)
            raise InvalidInput("the challenge is malformed: ask for a new code", code="bad_challenge")
        if expires <= self._clock.now().timestamp():
            raise Unauthenticated("the code expired: ask for a new one", code="code_expired")
        subject = account_id_of(phone)
        # Reserve a wrong try before comparing: at the limit even the right code waits for the window. (A crash
        # before the give-back costs the phone one try: the limit fails closed.)
        reserved = self._take_all("wrong", subject, WRONG_CODES, "too many wrong codes for this phone", "sign_in_locked")
        if not hmac.compare_digest(mac, self._mac(phone, str(code or "").strip(), expires)):
            raise Unauthenticated("wrong code", code="wrong_code")
        self._give_back(reserved)
        if not self._counters.take(f"used#{mac}", 1, expires + 60):
            raise Unauthenticated("this code was used already: ask for a new one", code="code_used")
        return subject
