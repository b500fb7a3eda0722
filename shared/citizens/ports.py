"""The citizens' port: accounts, the unique owner of each verified plate, pending plate challenges."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from shared.citizens.model import Account, Notice, PlateChallenge


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

    def put_challenge(self, challenge: PlateChallenge) -> None: ...

    def drop_challenge(self, account_id: str, plate: str) -> None: ...
