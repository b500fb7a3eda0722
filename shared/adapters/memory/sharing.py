"""In-memory shared-parking offers and applications; one lock makes each write atomic."""

from __future__ import annotations

import threading

from shared.sharing.model import Application, ApplicationStatus, Offer


class MemorySharingStore:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._offers: dict[str, Offer] = {}
        self._apps: dict[str, Application] = {}

    @staticmethod
    def _fits(current, new) -> bool:
        return (current.version if current else 0) == new.version - 1

    def offer(self, offer_id: str) -> Offer | None:
        return self._offers.get(offer_id)

    def save_offer(self, offer: Offer) -> bool:
        with self._lock:
            if not self._fits(self._offers.get(offer.offer_id), offer):
                return False
            self._offers[offer.offer_id] = offer
            return True

    def application(self, application_id: str) -> Application | None:
        return self._apps.get(application_id)

    def save_application(self, application: Application) -> bool:
        with self._lock:
            if not self._fits(self._apps.get(application.application_id), application):
                return False
            self._apps[application.application_id] = application
            return True

    def _both(self, offer: Offer, application: Application) -> bool:
        with self._lock:
            if not (self._fits(self._offers.get(offer.offer_id), offer)
                    and self._fits(self._apps.get(application.application_id), application)):
                return False
            self._offers[offer.offer_id], self._apps[application.application_id] = offer, application
            return True

    grant = release = _both

    def of_offer(self, offer_id: str) -> list[Application]:
        return sorted((a for a in self._apps.values() if a.offer_id == offer_id), key=lambda a: a.created_at)

    def of_applicant(self, applicant: str) -> list[Application]:
        return sorted((a for a in self._apps.values() if a.applicant == applicant), key=lambda a: a.created_at)

    def rights_of_plate(self, plate: str) -> list[Application]:
        return [a for a in self._apps.values() if a.status is ApplicationStatus.APPROVED and plate in a.plates]
