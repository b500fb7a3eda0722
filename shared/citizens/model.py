"""A citizen's service-window account (S6). Pure: no I/O.

Pay-later needs four things at once: the account is active, the plate's ownership was verified, the citizen
consented to the current terms, and a payment method is saved for off-session charges. Withdrawing ends
pay-later for the future only: bills already incurred stay owed.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime
from enum import Enum

from pydantic import BaseModel, Field

CONSENT_VERSION = "2026-11"  # the pay-later terms the citizen agrees to; a new version asks again
VERIFICATION_TTL_S = 900
MAX_PLATES = 5


class AccountStatus(str, Enum):
    ACTIVE = "active"
    PAUSED = "paused"  # pay-later off for now, by the citizen
    WITHDRAWN = "withdrawn"  # pay-later ended by the citizen; open bills keep running


class SavedMethod(BaseModel):
    provider: str
    setup_ref: str
    customer_ref: str
    payment_method_ref: str | None = None  # set once the provider confirms the setup (mandate)
    ready: bool = False


class Notice(BaseModel):
    """A message in the official channel (the service window's inbox, SMS through the platform)."""

    notice_id: str
    at: datetime
    kind: str
    text: str
    refs: dict[str, str] = Field(default_factory=dict)


class Account(BaseModel):
    account_id: str
    status: AccountStatus = AccountStatus.ACTIVE
    consent_version: str | None = None
    consented_at: datetime | None = None
    plates: list[str] = Field(default_factory=list, description="Plates whose ownership was verified.")
    verified_at: dict[str, datetime] = Field(
        default_factory=dict, description="When each plate was proved: the account sees its bills from then on only."
    )
    method: SavedMethod | None = None
    suspended_by_arrears: list[str] = Field(default_factory=list, description="Arrears cases suspending pay-later.")
    notices: list[Notice] = Field(default_factory=list)
    created_at: datetime
    version: int = 1

    def bumped(self, **changes) -> Account:
        return self.model_copy(update={**changes, "version": self.version + 1})

    @property
    def pay_later_registered(self) -> bool:
        """Registered for pay-later: active, consenting to the current terms, with a saved method."""
        return (
            self.status is AccountStatus.ACTIVE
            and self.consent_version == CONSENT_VERSION
            and self.method is not None
            and self.method.ready
        )

    @property
    def pay_later_ready(self) -> bool:
        return self.pay_later_registered and not self.suspended_by_arrears

    def owns(self, plate: str) -> bool:
        return plate in self.plates

    def owns_bill(self, plate: str, created_at: datetime) -> bool:
        """A plate's bills from before this account proved it belong to its previous keeper."""
        since = self.verified_at.get(plate)
        return self.owns(plate) and since is not None and created_at >= since


class PlateChallenge(BaseModel):
    """Proof of ownership: a code sent to the phone on the vehicle's registration record (行驶证), which
    only the registered keeper receives. The platform stores the code's hash, never the code."""

    account_id: str
    plate: str
    code_hash: str
    expires_at: datetime
    attempts: int = 0
    sent: list[datetime] = Field(default_factory=list, description="When codes were sent, within the rate window.")
    version: int = 1  # counters are changed by conditional writes: two racing requests cannot both pass a limit

    def bumped(self, **changes) -> PlateChallenge:
        return self.model_copy(update={**changes, "version": self.version + 1})


def new_code() -> str:
    return f"{secrets.randbelow(10**6):06d}"


def code_hash(account_id: str, plate: str, code: str) -> str:
    return hashlib.sha256(f"{account_id}\x00{plate}\x00{code}".encode()).hexdigest()
