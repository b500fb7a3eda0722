"""The service window for citizens: account and consent, plates proven by a code, a saved payment method
for pay-later, pause / resume / withdraw, the official inbox, and their own vehicles' bills."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from datetime import timedelta
from typing import Protocol

from shared import versioned
from shared.auth import Principal
from shared.citizens.ports import AccountStore, PlateOwner
from shared.citizens.model import (
    CONSENT_VERSION,
    MAX_PLATES,
    VERIFICATION_TTL_S,
    Account,
    AccountStatus,
    Notice,
    PlateChallenge,
    SavedMethod,
    code_hash,
    new_code,
)
from shared.clock import Clock
from shared.errors import Conflict, Forbidden, InvalidInput, NotFound, TooManyRequests
from shared.payments.provider import PaymentProvider, SetupRequest
from shared.plates import MalformedPlate, parse

MAX_CODE_ATTEMPTS = 5
# Each code texts the vehicle's keeper: requests are capped per (account, plate), per plate whoever asks,
# and per account whatever the plate; wrong guesses carry over to the next code within the window.
RATE_WINDOW = timedelta(hours=24)
SENDS_PER_ACCOUNT_PLATE, SENDS_PER_PLATE, SENDS_PER_ACCOUNT = 3, 5, 10
_ANY = "*"  # the pseudo account / plate of the per-plate and per-account counters
MAX_NOTICES = 200


class PlateVerifier(Protocol):
    """Sends the code to the phone on the vehicle's registration record (a traffic-police service)."""

    def send_code(self, plate: str, code: str) -> None: ...


class SandboxVerifier:
    """Local stand-in for the registration lookup: keeps the last code per plate for tests and demos, and
    each text message as the registered phone would show it (the local SMS inbox page reads ``messages``)."""

    def __init__(self) -> None:
        self.sent: dict[str, str] = {}
        self.messages: list[dict[str, str]] = []

    def send_code(self, plate: str, code: str) -> None:
        self.sent[plate] = code
        self.messages = [*self.messages[-49:], {
            "to": f"the phone registered for {plate}", "plate": plate, "code": code,
            "text": f"【无锡通停通付】您正在绑定车牌 {plate}，验证码 {code}，15 分钟内有效。请勿告诉他人。",
        }]

    def send_login_code(self, phone: str, code: str) -> None:
        """The sign-in text (shared.citizens.login), kept for the local SMS inbox like the plate codes."""
        self.messages = [*self.messages[-49:], {
            "to": phone, "plate": "", "code": code,
            "text": f"【无锡通停通付】登录验证码 {code}，5 分钟内有效。请勿告诉他人。",
        }]


def _citizen(principal: Principal) -> str:
    if not principal.is_citizen:
        raise Forbidden("only a citizen's own account may do this", code="citizen_only")
    return principal.subject


def _plate(raw: object) -> str:
    try:
        plate = parse(str(raw or ""))
    except MalformedPlate as exc:
        raise InvalidInput(str(exc), code="malformed_plate") from None
    if plate.partial:
        raise InvalidInput("give the whole plate, with its province", code="malformed_plate")
    return plate.text


class CitizenService:
    def __init__(self, accounts: AccountStore, verifier: PlateVerifier, setup_provider: Callable[[], tuple[str, PaymentProvider]], clock: Clock) -> None:
        self._accounts, self._verifier, self._setup_provider, self._clock = accounts, verifier, setup_provider, clock

    # Account and consent
    def open(self, principal: Principal, consent: bool) -> Account:
        account_id = _citizen(principal)
        existing = self._accounts.get(account_id)
        if existing is not None:
            return existing if not consent else self._change(account_id, lambda a: {"consent_version": CONSENT_VERSION, "consented_at": self._clock.now()})
        account = Account(account_id=account_id, created_at=self._clock.now(),
                          consent_version=CONSENT_VERSION if consent else None,
                          consented_at=self._clock.now() if consent else None)
        if not self._accounts.save(account):
            return self.get(principal)
        return account

    def get(self, principal: Principal) -> Account:
        return self._require(_citizen(principal))

    def with_notices(self, account: Account) -> Account:
        """The account as the citizen sees it: with its newest official notices (records of their own; notices
        stored in the account item before that are kept in front)."""
        stored = self._accounts.notices(account.account_id, MAX_NOTICES)
        ids = {n.notice_id for n in stored}
        return account.model_copy(update={"notices": ([n for n in account.notices if n.notice_id not in ids] + stored)[-MAX_NOTICES:]})

    def _require(self, account_id: str) -> Account:
        account = self._accounts.get(account_id)
        if account is None:
            raise NotFound("open an account first", code="no_account")
        return account

    def _change(self, account_id: str, changes: Callable[[Account], dict | None]) -> Account:
        return versioned.change(lambda: self._require(account_id), changes, self._accounts.save, f"account {account_id}")[0]

    def set_status(self, principal: Principal, status: AccountStatus) -> Account:
        """Pause, resume or withdraw pay-later. Withdrawal keeps every bill already incurred."""
        account_id = _citizen(principal)

        def change(account: Account):
            if account.status is AccountStatus.WITHDRAWN and status is not AccountStatus.WITHDRAWN:
                raise Conflict("a withdrawn account gives consent again to resume", code="account_withdrawn")
            return None if account.status is status else {"status": status}

        return self._change(account_id, change)

    def consent(self, principal: Principal) -> Account:
        return self._change(_citizen(principal), lambda a: {
            "consent_version": CONSENT_VERSION, "consented_at": self._clock.now(),
            "status": AccountStatus.ACTIVE if a.status is AccountStatus.WITHDRAWN else a.status,
        })  # fmt: skip

    # Plates
    def add_plate(self, principal: Principal, raw_plate: object) -> dict:
        account = self.get(principal)
        plate = _plate(raw_plate)
        if account.owns(plate):
            return {"plate": plate, "verified": True}
        if len(account.plates) >= MAX_PLATES:
            raise Conflict(f"at most {MAX_PLATES} plates per account", code="too_many_plates")
        code = new_code()
        for _ in range(versioned.ATTEMPTS):  # a lost race reads the counters again: one of two racers writes
            if self._accounts.save_challenges(self._counted_send(account.account_id, plate, code)):
                break
        else:
            raise Conflict("too many codes asked for at once; retry", code="contention")
        self._verifier.send_code(plate, code)
        return {"plate": plate, "verified": False, "code_sent_to": "the phone on the vehicle's registration"}

    def _counted_send(self, account_id: str, plate: str, code: str) -> list[PlateChallenge]:
        """The new challenge and the per-plate and per-account counters, each one send more, or 429."""
        now = self._clock.now()
        records = []
        for owner, key, limit in ((account_id, plate, SENDS_PER_ACCOUNT_PLATE), (_ANY, plate, SENDS_PER_PLATE),
                                  (account_id, _ANY, SENDS_PER_ACCOUNT)):  # fmt: skip
            counter = self._accounts.challenge(owner, key)
            sent = [t for t in (counter.sent if counter else []) if t > now - RATE_WINDOW]
            if len(sent) >= limit:
                retry_after = max(1, int((min(sent) + RATE_WINDOW - now).total_seconds()) + 1)
                raise TooManyRequests(f"too many codes asked for; try again in {retry_after} s", retry_after=retry_after)
            if owner == _ANY or key == _ANY:
                fields = {"code_hash": "", "expires_at": now + RATE_WINDOW, "sent": [*sent, now]}
            else:  # a new code does not reset wrong guesses made within the window
                fields = {"code_hash": code_hash(account_id, plate, code), "sent": [*sent, now],
                          "expires_at": now + timedelta(seconds=VERIFICATION_TTL_S),
                          "attempts": counter.attempts if counter and sent else 0}  # fmt: skip
            records.append(counter.bumped(**fields) if counter else PlateChallenge(account_id=owner, plate=key, **fields))
        return records

    def verify_plate(self, principal: Principal, raw_plate: object, code: object) -> Account:
        account_id = _citizen(principal)
        plate = _plate(raw_plate)
        for _ in range(versioned.ATTEMPTS):
            challenge = self._accounts.challenge(account_id, plate)
            if challenge is None or challenge.expires_at < self._clock.now():
                raise InvalidInput("no verification is pending for this plate (or it expired)", code="verification_expired")
            if challenge.attempts >= MAX_CODE_ATTEMPTS:  # a new code does not unlock it: the window must pass
                first = min(challenge.sent, default=self._clock.now())
                retry_after = max(1, int((first + RATE_WINDOW - self._clock.now()).total_seconds()) + 1)
                raise TooManyRequests(f"too many wrong codes; try again in {retry_after} s", retry_after=retry_after,
                                      code="verification_locked")
            # Every guess spends an attempt before it is judged, by a conditional write: racing guesses
            # cannot share the last one.
            if self._accounts.save_challenges([challenge.bumped(attempts=challenge.attempts + 1)]):
                break
        else:
            raise Conflict("too many guesses at once; retry", code="contention")
        if code_hash(account_id, plate, str(code or "")) != challenge.code_hash:
            raise InvalidInput("wrong code", code="verification_failed")
        if not self._accounts.claim_plate(plate, account_id):
            raise Conflict("this plate is registered to another account", code="plate_taken")
        self._accounts.drop_challenge(account_id, plate)  # the per-plate and per-account counters stay
        return self._change(account_id, lambda a: None if a.owns(plate) else {
            "plates": [*a.plates, plate], "verified_at": {**a.verified_at, plate: self._clock.now()},
        })  # fmt: skip

    def remove_plate(self, principal: Principal, raw_plate: object) -> Account:
        account_id, plate = _citizen(principal), _plate(raw_plate)
        account = self._change(account_id, lambda a: {
            "plates": [p for p in a.plates if p != plate], "verified_at": {k: v for k, v in a.verified_at.items() if k != plate},
        } if a.owns(plate) else None)  # fmt: skip
        self._accounts.release_plate(plate, account_id)
        return account

    # Saved payment method (a mandate for off-session charges)
    def save_method(self, principal: Principal) -> dict:
        account = self.get(principal)
        name, provider = self._setup_provider()
        setup_id = "setup_" + hashlib.sha256(f"{account.account_id}\x00{account.version}".encode()).hexdigest()[:20]
        setup = provider.create_setup(SetupRequest(
            setup_id=setup_id, account_id=account.account_id,
            customer_ref=account.method.customer_ref if account.method else None,
            metadata={"account_id": account.account_id},
        ))  # fmt: skip
        self._accounts.remember_setup(setup.provider_ref, account.account_id)
        method = SavedMethod(provider=name, setup_ref=setup.provider_ref, customer_ref=setup.customer_ref,
                             payment_method_ref=setup.payment_method_ref, ready=setup.status == "succeeded")
        self._change(account.account_id, lambda a: {"method": method})
        return {"setup_ref": setup.provider_ref, "ready": method.ready, "next_action_url": setup.next_action_url,
                "client_secret": setup.client_secret}

    def setup_confirmed(self, event) -> None:
        """The provider's callback (a ``CallbackEvent``): the mandate is in place (setup_intent.succeeded)."""
        setup_ref, payment_method_ref = event.provider_ref, event.payment_method_ref
        account_id = self._accounts.account_of_setup(setup_ref) if setup_ref else None
        if not account_id or self._accounts.get(account_id) is None:
            return

        def change(account: Account):
            method = account.method
            if method is None or method.setup_ref != setup_ref or method.ready:
                return None
            return {"method": method.model_copy(update={"ready": True, "payment_method_ref": payment_method_ref or method.payment_method_ref})}

        self._change(account_id, change)

    # Used by pay-later and arrears
    def plate_owner(self, plate: str) -> PlateOwner | None:
        """The owner's pay-later state, from the plate's own record (one read at the exit gate)."""
        return self._accounts.plate_owner(plate)

    def owner(self, plate: str) -> Account | None:
        account_id = self._accounts.owner_of(plate)
        return self._accounts.get(account_id) if account_id else None

    def suspend(self, account_id: str, case_id: str, suspended: bool) -> None:
        def change(account: Account):
            cases = [c for c in account.suspended_by_arrears if c != case_id] + ([case_id] if suspended else [])
            return None if cases == account.suspended_by_arrears else {"suspended_by_arrears": cases}

        if self._accounts.get(account_id) is not None:
            self._change(account_id, change)

    def notify(self, account_id: str, notice_id: str, kind: str, text: str, refs: dict[str, str],
               account: Account | None = None) -> bool:
        """Post to the official inbox once per ``notice_id`` (a retried task does not repeat it). ``account``:
        the account as the caller just read it, used for the first try (the save is conditional on its
        version, so a stale copy costs a re-read, never a lost notice)."""
        first = account if account is not None and account.account_id == account_id else self._accounts.get(account_id)
        if first is None:
            return False
        notice = Notice(notice_id=notice_id, at=self._clock.now(), kind=kind, text=text, refs=refs)
        if any(n.notice_id == notice_id for n in first.notices):
            return True  # posted before notices became records of their own
        self._accounts.add_notice(account_id, notice)  # once per notice id; the account item stays as it is
        return True
