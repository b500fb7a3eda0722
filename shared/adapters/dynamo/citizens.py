"""Accounts, the unique owner of each verified plate, and pending plate challenges."""

from __future__ import annotations

from pynamodb.exceptions import DeleteError, DoesNotExist

from shared.adapters.dynamo import read_ahead
from shared.adapters.dynamo.conditions import save_if, versioned
from shared.adapters.dynamo.models import CitizenItem
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

    def put_challenge(self, challenge: PlateChallenge) -> None:
        CitizenItem(pk=f"CHALLENGE#{challenge.account_id}#{challenge.plate}", doc=challenge.model_dump(mode="json")).save()

    def drop_challenge(self, account_id: str, plate: str) -> None:
        CitizenItem(pk=f"CHALLENGE#{account_id}#{plate}").delete()
