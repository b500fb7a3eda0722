"""Accounts, the unique owner of each verified plate, and pending plate challenges."""

from __future__ import annotations

from pynamodb.exceptions import DeleteError, DoesNotExist, TransactWriteError
from pynamodb.transactions import TransactWrite

from shared.adapters.dynamo.conditions import failed_conditions, save_if, versioned
from shared.adapters.dynamo.ledger import transaction_conflict
from shared.adapters.dynamo.models import CitizenItem, transaction_connection
from shared.citizens.model import Account, PlateChallenge


class AccountStore:
    def get(self, account_id: str) -> Account | None:
        try:
            return Account.model_validate(CitizenItem.get(f"ACCOUNT#{account_id}", consistent_read=True).doc)
        except DoesNotExist:
            return None

    def save(self, account: Account) -> bool:
        """Create (version 1) or replace version - 1; False if someone changed it first."""
        item = CitizenItem(pk=f"ACCOUNT#{account.account_id}", version=account.version,
                           doc=account.model_dump(mode="json"), account_id=account.account_id)
        return save_if(item, versioned(CitizenItem, account.version))

    def owner_of(self, plate: str) -> str | None:
        try:
            return CitizenItem.get(f"PLATE#{plate}", consistent_read=True).account_id
        except DoesNotExist:
            return None

    def claim_plate(self, plate: str, account_id: str) -> bool:
        """A plate belongs to one account at a time: the claim is a conditional write."""
        item = CitizenItem(pk=f"PLATE#{plate}", account_id=account_id)
        return save_if(item, CitizenItem.pk.does_not_exist() | (CitizenItem.account_id == account_id))

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
