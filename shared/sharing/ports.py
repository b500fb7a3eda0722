"""What shared parking needs from storage. Adapters: ``shared.adapters.memory.sharing`` and
``shared.adapters.dynamo.sharing``."""

from __future__ import annotations

from typing import Protocol

from shared.sharing.model import Application, Offer


class SharingStore(Protocol):
    """Contract: every ``save_*`` stores version ``n`` only over ``n - 1`` (1: only if none) and answers
    False, writing nothing, otherwise. ``grant`` and ``release`` write the offer (its ``granted`` count)
    and the application together, each on its version, or nothing; ``grant`` indexes the right under each
    of its plates and ``release`` removes those entries. ``rights_of_plate``: approved applications naming
    the plate (whatever their validity)."""

    def offer(self, offer_id: str) -> Offer | None: ...

    def save_offer(self, offer: Offer) -> bool: ...

    def application(self, application_id: str) -> Application | None: ...

    def save_application(self, application: Application) -> bool: ...

    def grant(self, offer: Offer, application: Application) -> bool: ...

    def release(self, offer: Offer, application: Application) -> bool: ...

    def of_offer(self, offer_id: str) -> list[Application]: ...

    def of_applicant(self, applicant: str) -> list[Application]: ...

    def rights_of_plate(self, plate: str) -> list[Application]: ...
