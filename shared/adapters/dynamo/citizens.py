"""Accounts, the unique owner of each verified plate, and pending plate challenges."""

from __future__ import annotations

from datetime import UTC

from pynamodb.exceptions import DeleteError, DoesNotExist, TransactWriteError
from pynamodb.transactions import TransactWrite

from shared.adapters.dynamo import read_ahead
from shared.adapters.dynamo.conditions import failed_conditions, save_if, versioned
from shared.adapters.dynamo.ledger import transaction_conflict
from shared.adapters.dynamo.models import CitizenItem, transaction_connection
from shared.citizens.model import Account, Notice, PlateChallenge
from shared.citizens.ports import PlateOwner


def _account_item(account: Account) -> CitizenItem:
    return CitizenItem(pk=f"ACCOUNT#{account.account_id}", version=account.version,
                       doc=account.model_dump(mode="json"), account_id=account.account_id)


def notice_item(account_id: str, notice: Notice) -> CitizenItem:
    """One item per notice (bounded size); also staged in the pay-later exit's transaction (sessions.py)."""
    at = f"{notice.at.astimezone(UTC).isoformat()}#{notice.notice_id}"
    return CitizenItem(pk=f"NOTICE#{account_id}#{notice.notice_id}", account_id=account_id, notice_at=at,
                       doc=notice.model_dump(mode="json"))


def _not_anothers(account_id: str):
    """A plate record that no other account holds (absent, a bare pay-later copy, or this account's)."""
    return CitizenItem.pk.does_not_exist() | CitizenItem.account_id.does_not_exist() | (CitizenItem.account_id == account_id)


def _state(owner: PlateOwner) -> str:
    """``registered:ready`` as 1/0, on the plate's record."""
    return f"{int(owner.pay_later_registered)}:{int(owner.pay_later_ready)}"


class AccountStore:
    def get(self, account_id: str) -> Account | None:
        try:
            return Account.model_validate(CitizenItem.get(f"ACCOUNT#{account_id}", consistent_read=True).doc)
        except DoesNotExist:
            return None

    def save(self, account: Account) -> bool:
        """Create (version 1) or replace version - 1, with the pay-later state copied onto each of the
        account's plates (held by this account: claimed before added, released after removed), all or
        nothing; False if someone changed it first."""
        item = _account_item(account)
        if not account.plates:
            return save_if(item, versioned(CitizenItem, account.version))
        state = _state(PlateOwner.of(account))
        try:
            with TransactWrite(connection=transaction_connection()) as tx:
                tx.save(item, condition=versioned(CitizenItem, account.version))
                for plate in account.plates:
                    tx.update(CitizenItem(pk=f"PLATE#{plate}"), actions=[CitizenItem.pay_later.set(state)],
                              condition=_not_anothers(account.account_id))
        except TransactWriteError as exc:
            if failed_conditions(exc) or transaction_conflict(exc):
                return False
            raise
        return True

    def add_notice(self, account_id: str, notice: Notice) -> bool:
        """One item per notice (bounded size), put if absent: the account item does not grow with them."""
        return save_if(notice_item(account_id, notice), CitizenItem.pk.does_not_exist())

    def notices(self, account_id: str, limit: int) -> list[Notice]:
        items = CitizenItem.notices_by_account.query(account_id, scan_index_forward=False, limit=limit)
        return [Notice.model_validate(i.doc) for i in items][::-1]

    def plate_owner(self, plate: str) -> PlateOwner | None:
        """From the plate's record (in the exit's batched read); the account itself only where the plate's
        copy is missing (claimed, not yet saved with the account)."""
        item = read_ahead.take(CitizenItem, f"PLATE#{plate}")
        if item is read_ahead.MISS:
            try:
                item = CitizenItem.get(f"PLATE#{plate}", consistent_read=True)
            except DoesNotExist:
                item = None
        if item is None or not item.account_id:
            return None
        if item.pay_later:
            registered, ready = (flag == "1" for flag in item.pay_later.split(":"))
            return PlateOwner(item.account_id, registered, ready)
        account = self.get(item.account_id)
        return PlateOwner.of(account) if account is not None else None

    def owner_of(self, plate: str) -> str | None:
        ahead = read_ahead.take(CitizenItem, f"PLATE#{plate}")  # issue 10: the exit's batched read
        if ahead is not read_ahead.MISS:
            return ahead.account_id if ahead is not None else None
        try:
            return CitizenItem.get(f"PLATE#{plate}", consistent_read=True).account_id
        except DoesNotExist:
            return None

    def claim_plate(self, plate: str, account_id: str) -> bool:
        """A plate belongs to one account at a time: the claim is a conditional write."""
        item = CitizenItem(pk=f"PLATE#{plate}", account_id=account_id)
        return save_if(item, _not_anothers(account_id))

    def release_plate(self, plate: str, account_id: str) -> None:
        try:
            CitizenItem(pk=f"PLATE#{plate}").delete(condition=CitizenItem.account_id == account_id)
        except DeleteError as exc:
            if exc.cause_response_code != "ConditionalCheckFailedException":
                raise  # someone else's claim (or none) is left alone; anything else is a real failure

    def remember_setup(self, setup_ref: str, account_id: str) -> None:
        """Which account a provider's setup belongs to, for its confirmation callback."""
        CitizenItem(pk=f"SETUP#{setup_ref}", account_id=account_id).save()

    def account_of_setup(self, setup_ref: str) -> str | None:
        try:
            return CitizenItem.get(f"SETUP#{setup_ref}", consistent_read=True).account_id
        except DoesNotExist:
            return None

    def challenge(self, account_id: str, plate: str) -> PlateChallenge | None:
        try:
            return PlateChallenge.model_validate(CitizenItem.get(f"CHALLENGE#{account_id}#{plate}", consistent_read=True).doc)
        except DoesNotExist:
            return None

    def save_challenges(self, challenges: list[PlateChallenge]) -> bool:
        """One transaction; each item conditional on its version (a counter is a read-check-write)."""
        try:
            with TransactWrite(connection=transaction_connection()) as tx:
                for c in challenges:
                    condition = versioned(CitizenItem, c.version)
                    if c.version == 2:  # a record stored before counters had versions reads as version 1
                        condition = condition | (CitizenItem.pk.exists() & CitizenItem.version.does_not_exist())
                    tx.save(CitizenItem(pk=f"CHALLENGE#{c.account_id}#{c.plate}", version=c.version,
                                        doc=c.model_dump(mode="json")), condition=condition)  # fmt: skip
        except TransactWriteError as exc:
            if transaction_conflict(exc) or failed_conditions(exc):
                return False
            raise
        return True

    def drop_challenge(self, account_id: str, plate: str) -> None:
        CitizenItem(pk=f"CHALLENGE#{account_id}#{plate}").delete()
