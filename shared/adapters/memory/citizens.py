"""Accounts, the unique owner of each verified plate, pending plate challenges and setups, in memory."""

from __future__ import annotations

from shared.adapters.memory.db import LOCK, dump, fits
from shared.citizens.model import Account, Notice, PlateChallenge
from shared.citizens.ports import PlateOwner


class AccountStore:
    def __init__(self) -> None:
        self.accounts: dict[str, dict] = {}
        self.plates: dict[str, str] = {}
        self.setups: dict[str, str] = {}
        self.challenges: dict[tuple[str, str], dict] = {}
        self.inboxes: dict[str, dict[str, dict]] = {}  # account -> notice id -> notice

    def get(self, account_id: str) -> Account | None:
        doc = self.accounts.get(account_id)
        return Account.model_validate(doc) if doc is not None else None

    def save(self, account: Account) -> bool:
        with LOCK:
            if not fits(self.accounts, account.account_id, account.version):
                return False
            self.accounts[account.account_id] = dump(account)
        return True

    def add_notice(self, account_id: str, notice: Notice) -> bool:
        with LOCK:
            inbox = self.inboxes.setdefault(account_id, {})
            if notice.notice_id in inbox:
                return False
            inbox[notice.notice_id] = dump(notice)
        return True

    def notices(self, account_id: str, limit: int) -> list[Notice]:
        found = [Notice.model_validate(d) for d in self.inboxes.get(account_id, {}).values()]
        return sorted(found, key=lambda n: (n.at, n.notice_id))[-limit:]

    def owner_of(self, plate: str) -> str | None:
        return self.plates.get(plate)

    def plate_owner(self, plate: str) -> PlateOwner | None:
        account = self.get(self.plates.get(plate) or "")
        return PlateOwner.of(account) if account is not None else None

    def claim_plate(self, plate: str, account_id: str) -> bool:
        with LOCK:
            if self.plates.setdefault(plate, account_id) != account_id:
                return False
        return True

    def release_plate(self, plate: str, account_id: str) -> None:
        with LOCK:
            if self.plates.get(plate) == account_id:
                del self.plates[plate]

    def remember_setup(self, setup_ref: str, account_id: str) -> None:
        self.setups[setup_ref] = account_id

    def account_of_setup(self, setup_ref: str) -> str | None:
        return self.setups.get(setup_ref)

    def challenge(self, account_id: str, plate: str) -> PlateChallenge | None:
        doc = self.challenges.get((account_id, plate))
        return PlateChallenge.model_validate(doc) if doc is not None else None

    def save_challenges(self, challenges: list[PlateChallenge]) -> bool:
        with LOCK:
            keys = [(c.account_id, c.plate) for c in challenges]
            for key, c in zip(keys, challenges):
                stored = self.challenges.get(key)
                if not (stored is None if c.version == 1 else stored is not None and stored.get("version", 1) == c.version - 1):
                    return False
            for key, c in zip(keys, challenges):
                self.challenges[key] = dump(c)
        return True

    def drop_challenge(self, account_id: str, plate: str) -> None:
        self.challenges.pop((account_id, plate), None)
