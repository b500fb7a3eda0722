"""Ledger account names: ``<kind>:<id>`` strings (``platform_fee`` alone). What each account means and
which postings move it is documented in ``shared.ledger.model``."""

from __future__ import annotations

from enum import Enum

from shared.errors import InvalidInput


class AccountKind(str, Enum):
    RECEIVABLE = "receivable"
    OPERATOR_REVENUE = "operator_revenue"
    OPERATOR_DISCOUNTS = "operator_discounts"
    PROVIDER_CLEARING = "provider_clearing"
    WRITE_OFF = "write_off"
    COLLECTION_INCENTIVE = "collection_incentive"
    OPERATOR_FEE_RECEIVABLE = "operator_fee_receivable"
    PLATFORM_FEE = "platform_fee"
    DISTRICT_RETURNS = "district_returns"  # the districts' share of the platform's returns (S15)


def _named(kind: AccountKind, ident: str) -> str:
    if not isinstance(ident, str) or not ident:
        raise InvalidInput(f"a {kind.value} account needs an id", code="invalid_account")
    return f"{kind.value}:{ident}"


# issue 10: the kinds of account nobody reads by account in production. A plate's receivable is moved by
# every charge and payment, and read only as part of a posting (bills carry what a plate owes); settlement
# reads operator revenue and discounts, provider clearing and write-offs by window, and reports read the fee
# and return accounts' balances. The DynamoDB ledger keeps no index entry for these lines (one write unit
# fewer per posting); reading them by account scans the ledger (audits and tests only).
NOT_READ_BY_ACCOUNT = frozenset({AccountKind.RECEIVABLE})
_NOT_READ_PREFIXES = frozenset(k.value for k in NOT_READ_BY_ACCOUNT)  # read_by_account runs twice per posting


class Account:
    """Account names. Build them here, never by hand, so a typo cannot open a new account."""

    @staticmethod
    def receivable(plate: str) -> str:
        return _named(AccountKind.RECEIVABLE, plate)

    @staticmethod
    def operator_revenue(operator_id: str) -> str:
        return _named(AccountKind.OPERATOR_REVENUE, operator_id)

    @staticmethod
    def operator_discounts(operator_id: str) -> str:
        return _named(AccountKind.OPERATOR_DISCOUNTS, operator_id)

    @staticmethod
    def provider_clearing(provider: str) -> str:
        return _named(AccountKind.PROVIDER_CLEARING, provider)

    @staticmethod
    def write_off(district: str) -> str:
        return _named(AccountKind.WRITE_OFF, district)

    @staticmethod
    def collection_incentive(party: str) -> str:
        return _named(AccountKind.COLLECTION_INCENTIVE, party)

    @staticmethod
    def operator_fee_receivable(operator_id: str) -> str:
        return _named(AccountKind.OPERATOR_FEE_RECEIVABLE, operator_id)

    @staticmethod
    def platform_fee() -> str:
        return AccountKind.PLATFORM_FEE.value

    @staticmethod
    def district_returns(district: str) -> str:
        return _named(AccountKind.DISTRICT_RETURNS, district)

    @staticmethod
    def read_by_account(account: str) -> bool:
        """False for the kinds in ``NOT_READ_BY_ACCOUNT``: no production reader lists their lines. Total: a
        name of no known kind counts as read (it is refused where accounts are validated, not here)."""
        return account.partition(":")[0] not in _NOT_READ_PREFIXES

    @staticmethod
    def kind_of(account: str) -> AccountKind:
        """The account's kind; InvalidInput for a name no helper above would build."""
        prefix, _, ident = account.partition(":")
        try:
            kind = AccountKind(prefix)
        except ValueError:
            raise InvalidInput(f"unknown account {account!r}", code="invalid_account") from None
        if not (account == kind.value if kind is AccountKind.PLATFORM_FEE else ident):  # platform_fee has no id
            raise InvalidInput(f"malformed account {account!r}", code="invalid_account")
        return kind
