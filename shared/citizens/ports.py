"""The citizens' port: accounts, the unique owner of each verified plate, pending plate challenges."""

from __future__ import annotations

from typing import Protocol

from shared.citizens.model import Account, PlateChallenge


class AccountStore(Protocol):
    """Contract (``tests/contracts/test_citizens.py``):

    - ``save`` creates version 1 only if absent, or replaces version n - 1 (False: someone changed it first).
    - A plate has one owner at a time: ``claim_plate`` succeeds if the plate is free or already this
      account's; ``release_plate`` frees it only if this account holds it.
    - ``save_challenges`` stores challenges and rate counters (``PlateChallenge`` records keyed by account
      and plate) all or nothing, each at its version: version 1 only if absent, version n only over n - 1.
      False: one of them changed first and nothing was written. Of two racing requests that read the same
      counters, one writes and the other reads again, so both cannot pass a limit.
    """

    def get(self, account_id: str) -> Account | None: ...

    def save(self, account: Account) -> bool: ...

    def owner_of(self, plate: str) -> str | None: ...

    def claim_plate(self, plate: str, account_id: str) -> bool: ...

    def release_plate(self, plate: str, account_id: str) -> None: ...

    def remember_setup(self, setup_ref: str, account_id: str) -> None: ...

    def account_of_setup(self, setup_ref: str) -> str | None: ...

    def challenge(self, account_id: str, plate: str) -> PlateChallenge | None: ...

    def save_challenges(self, challenges: list[PlateChallenge]) -> bool: ...

    def drop_challenge(self, account_id: str, plate: str) -> None: ...
