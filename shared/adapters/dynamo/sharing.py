"""Shared parking in the ``sharing`` table: ``OFFER#<id>`` and ``APP#<id>`` (doc, version; an application
carries ``offer_id`` and ``applicant`` for its indexes) and, while a right is approved, one
``RIGHT#<application>#<plate>`` per plate (``plate`` indexed) so that the exit finds a plate's rights."""

from __future__ import annotations

from pynamodb.attributes import JSONAttribute, NumberAttribute, UnicodeAttribute, UnicodeSetAttribute
from pynamodb.exceptions import DoesNotExist, TransactWriteError
from pynamodb.transactions import TransactWrite

from shared import resources
from shared.adapters.dynamo import read_ahead
from shared.adapters.dynamo.conditions import failed_conditions, save_if, versioned
from shared.adapters.dynamo.models import index_of, keyed, transaction_connection
from shared.sharing.model import Application, ApplicationStatus, Offer


_ByPlate = index_of(resources.SHARING, "by_plate")


_ByOffer = index_of(resources.SHARING, "by_offer")


_ByApplicant = index_of(resources.SHARING, "by_applicant")


def plate_rights_key(plate: str) -> str:
    return f"PLATE#{plate}"


class SharingItem(keyed(resources.SHARING)):
    version = NumberAttribute(null=True)
    doc = JSONAttribute(null=True)
    plate = UnicodeAttribute(null=True)
    offer_id = UnicodeAttribute(null=True)
    applicant = UnicodeAttribute(null=True)
    application_id = UnicodeAttribute(null=True)
    right_ids = UnicodeSetAttribute(null=True)  # PLATE#plate: the plate's granted applications (issue 10)
    by_plate = _ByPlate()
    by_offer = _ByOffer()
    by_applicant = _ByApplicant()


def _offer_item(offer: Offer) -> SharingItem:
    return SharingItem(pk=f"OFFER#{offer.offer_id}", version=offer.version, doc=offer.model_dump(mode="json"))


def _app_item(app: Application) -> SharingItem:
    return SharingItem(pk=f"APP#{app.application_id}", version=app.version, doc=app.model_dump(mode="json"),
                       offer_id=app.offer_id, applicant=app.applicant)


def _on(version: int):
    return SharingItem.version == version - 1


class DynamoSharingStore:
    def offer(self, offer_id: str) -> Offer | None:
        try:
            return Offer.model_validate(SharingItem.get(f"OFFER#{offer_id}", consistent_read=True).doc)
        except DoesNotExist:
            return None

    def save_offer(self, offer: Offer) -> bool:
        return save_if(_offer_item(offer), versioned(SharingItem, offer.version))

    def application(self, application_id: str) -> Application | None:
        try:
            return Application.model_validate(SharingItem.get(f"APP#{application_id}", consistent_read=True).doc)
        except DoesNotExist:
            return None

    def save_application(self, application: Application) -> bool:
        return save_if(_app_item(application), versioned(SharingItem, application.version))

    def _together(self, offer: Offer, app: Application, plates_present: bool) -> bool:
        try:
            with TransactWrite(connection=transaction_connection()) as tx:
                tx.save(_offer_item(offer), condition=_on(offer.version))
                tx.save(_app_item(app), condition=_on(app.version))
                for plate in app.plates:
                    key = f"RIGHT#{app.application_id}#{plate}"
                    ids, marker = SharingItem.right_ids, SharingItem(pk=plate_rights_key(plate))
                    if plates_present:
                        tx.save(SharingItem(pk=key, plate=plate, application_id=app.application_id))
                        tx.update(marker, actions=[ids.add({app.application_id})])
                    else:
                        tx.delete(SharingItem(pk=key))
                        tx.update(marker, actions=[ids.delete({app.application_id})])
        except TransactWriteError as exc:
            if failed_conditions(exc):
                return False
            raise
        return True

    def grant(self, offer: Offer, application: Application) -> bool:
        return self._together(offer, application, plates_present=True)

    def release(self, offer: Offer, application: Application) -> bool:
        return self._together(offer, application, plates_present=False)

    def of_offer(self, offer_id: str) -> list[Application]:
        return sorted((Application.model_validate(i.doc) for i in SharingItem.by_offer.query(offer_id)),
                      key=lambda a: a.created_at)

    def of_applicant(self, applicant: str) -> list[Application]:
        return sorted((Application.model_validate(i.doc) for i in SharingItem.by_applicant.query(applicant)),
                      key=lambda a: a.created_at)

    def rights_of_plate(self, plate: str) -> list[Application]:
        """From the plate's record of its rights (kept in the grant's and the release's transaction; one item
        in the exit's batched read), not the index."""
        marker = read_ahead.take(SharingItem, plate_rights_key(plate))
        if marker is read_ahead.MISS:
            try:
                marker = SharingItem.get(plate_rights_key(plate), consistent_read=True)
            except DoesNotExist:
                marker = None
        ids = sorted(marker.right_ids or ()) if marker is not None else []
        found = (self.application(application_id) for application_id in ids)
        return [a for a in found if a is not None and a.status is ApplicationStatus.APPROVED]
