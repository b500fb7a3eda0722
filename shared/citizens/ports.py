"""The citizens' port: accounts, the unique owner of each verified plate, pending plate challenges."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from shared.citizens.model import Account, Notice, PlateChallenge


@dataclass(frozen=True)
class AccountNotice:
    """A notice for an account's official inbox that rides in another unit of work (the pay-later exit's
    notice is stored in the exit's transaction, issue 10): put once per notice id, like ``add_notice``."""

    account_id: str
    notice: Notice


@dataclass(frozen=True)
class PlateOwner:
    """What the exit gate needs of a plate's owner: whether pay-later is registered and ready (issue 10)."""

    account_id: str
    pay_later_registered: bool
    pay_later_ready: bool

    @classmethod
    def of(cls, account: Account) -> PlateOwner:
        return cls(account.account_id, account.pay_later_registered, account.pay_later_ready)


class AccountStore(Protocol):
    """Contract (``tests/contracts/test_citizens.py``):

    - ``save`` creates version 1 only if absent, or replaces version n - 1 (False: someone changed it first).
    - A plate has one owner at a time: ``claim_plate`` succeeds if the plate is free or already this
      account's; ``release_plate`` frees it only if this account holds it.
    - ``save_challenges`` stores challenges and rate counters (``PlateChallenge`` records keyed by account
      and plate) all or nothing, each at its version: version 1 only if absent, version n only over n - 1.
      False: one of them changed first and nothing was written. Of two racing requests that read the same
      counters, one writes and the other reads again, so both cannot pass a limit.
    - ``plate_owner`` is ``PlateOwner.of`` the owner's account as last saved: ``save`` stores the account's
      pay-later state on each of its plates' records in the same all-or-nothing write (one read at the
      exit).
    - Official notices are records of their own, not part of the account: ``add_notice`` stores one once per
      (account, notice id) (False: stored before); ``notices`` lists the newest ``limit``, oldest first.
    """

    def get(self, account_id: str) -> Account | None: ...

    def save(self, account: Account) -> bool: ...

    def owner_of(self, plate: str) -> str | None: ...

    def plate_owner(self, plate: str) -> PlateOwner | None: ...

    def add_notice(self, account_id: str, notice: Notice) -> bool: ...

    def notices(self, account_id: str, limit: int) -> list[Notice]: ...

    def claim_plate(self, plate: str, account_id: str) -> bool: ...

    def release_plate(self, plate: str, account_id: str) -> None: ...

    def remember_setup(self, setup_ref: str, account_id: str) -> None: ...

    def account_of_setup(self, setup_ref: str) -> str | None: ...

    def challenge(self, account_id: str, plate: str) -> PlateChallenge | None: ...

    def save_challenges(self, challenges: list[PlateChallenge]) -> bool: ...

    def drop_challenge(self, account_id: str, plate: str) -> None: ...


class LoginCounters(Protocol):
    """Per-phone counters behind the sign-in limits (``shared.citizens.login``).

    Contract (``tests/contracts/test_login_counters.py``):

    - ``take(key, limit, until)`` adds one to counter ``key`` and returns True only if it was below ``limit``;
      at the limit it returns False and changes nothing. The check and the add are one atomic, conditional
      write, so concurrent takes never carry a counter past its limit.
    - ``give_back(key)`` takes one off atomically, never below zero (a right code returns its reserved try).
    - ``count(key)`` is the current value, 0 for an unknown key.
    - A counter may be forgotten after ``until`` (epoch seconds; DynamoDB's TTL); callers put their window in
      the key, so an old counter is never read again whether or not it was removed yet.
    """

    def take(self, key: str, limit: int, until: int) -> bool: ...

    def give_back(self, key: str) -> None: ...

    def count(self, key: str) -> int: ...
