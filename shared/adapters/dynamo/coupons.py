"""Coupons and their redemptions in the ``coupons`` table.

=====================================  =====================================================================
item                                   attributes
=====================================  =====================================================================
``COUPON#<code>``                      doc (the coupon, without ``redeemed``), version, redeemed (a counter
                                       only ever ADDed to by a redemption)
``REDEEMED#<code>#<bill_id>``          doc (bill, plate, fen taken off, when): the coupon was applied to
                                       this bill; exists at most once
``PLATE#<code>#<plate>``               redeemed: the bills of this plate the coupon was applied to (only
                                       for coupons with a ``per_plate_limit``)
=====================================  =====================================================================

A redemption is one transaction with the bill's new version and the ledger's discount posting, so the
counter, the bill and the ledger never disagree: either the coupon was applied to the bill everywhere,
or nowhere.
"""

from __future__ import annotations


from pynamodb.constants import ALL_OLD
from pynamodb.exceptions import DoesNotExist, TransactWriteError
from pynamodb.transactions import TransactWrite

from shared.adapters.dynamo.conditions import failed_conditions, save_if, update_if
from shared.adapters.dynamo.ledger import LedgerStore, transaction_conflict
from shared.adapters.dynamo.models import BillItem, CouponItem, transaction_connection
from shared.adapters.dynamo.money import _bill_item
from shared.adapters.records import Lookup
from shared.coupons.model import Coupon
from shared.coupons.ports import Outcome, Redemption
from shared.errors import Conflict


def coupon_key(code: str) -> str:
    return f"COUPON#{code}"


def redemption_key(code: str, bill_id: str) -> str:
    return f"REDEEMED#{code}#{bill_id}"


def plate_key(code: str, plate: str) -> str:
    return f"PLATE#{code}#{plate}"


def _doc(coupon: Coupon) -> dict:
    return coupon.model_dump(mode="json", exclude={"redeemed"})


def _coupon(item: CouponItem) -> Coupon:
    return Coupon.model_validate({**item.doc, "redeemed": int(item.redeemed or 0)})


class CouponStore(Lookup[Coupon]):
    kind, missing = "coupon", "does not exist"

    def __init__(self, ledger: LedgerStore | None = None) -> None:
        self._ledger = ledger or LedgerStore()

    # Records
    def get(self, code: str) -> Coupon | None:
        try:
            return _coupon(CouponItem.get(coupon_key(code), consistent_read=True))
        except DoesNotExist:
            return None

    def create(self, coupon: Coupon) -> Coupon:
        """Store ``coupon`` as version 1 with no redemptions; Conflict if its code is taken."""
        coupon = coupon.model_copy(update={"version": 1, "redeemed": 0})
        item = CouponItem(pk=coupon_key(coupon.code), version=1, doc=_doc(coupon), redeemed=0)
        if not save_if(item, CouponItem.pk.does_not_exist()):
            raise Conflict(f"coupon {coupon.code} already exists", code="already_exists")
        return coupon

    def replace(self, coupon: Coupon, expected_version: int) -> Coupon:
        """Store ``coupon`` as version ``expected_version + 1`` if the stored one is still that version.
        The redemption counter is left as it is (an update, not a put)."""
        new = coupon.model_copy(update={"version": expected_version + 1})
        item = CouponItem(pk=coupon_key(coupon.code))
        actions = [CouponItem.doc.set(_doc(new)), CouponItem.version.set(new.version)]
        if not update_if(item, actions, CouponItem.version == expected_version):
            current = self.require(coupon.code)
            raise Conflict(
                f"coupon changed since version {expected_version} (now {current.version})",
                code="version_conflict", current_version=current.version,
            )  # fmt: skip
        return self.require(coupon.code)

    def redemption(self, code: str, bill_id: str) -> dict | None:
        try:
            return CouponItem.get(redemption_key(code, bill_id), consistent_read=True).doc
        except DoesNotExist:
            return None

    # Redeeming
    def redeem(self, r: Redemption) -> Outcome:
        """Count the redemption, record it for the bill, store the bill's next version and post the discount,
        in one transaction. Conditions: the coupon is still the version read and has redemptions left (and
        the plate has some left), the coupon was never applied to this bill, the bill is the version read."""
        coupon, code, bill_id = r.coupon, r.coupon.code, r.before.bill_id
        try:
            with TransactWrite(connection=transaction_connection()) as tx:
                tx.save(
                    CouponItem(pk=redemption_key(code, bill_id), doc={
                        "code": code, "bill_id": bill_id, "plate": r.before.plate, "lot_id": r.before.lot_id,
                        "discount_fen": r.after.discount_fen - r.before.discount_fen, "at": r.at.isoformat(),
                    }),
                    condition=CouponItem.pk.does_not_exist(), return_values=ALL_OLD,
                )  # fmt: skip
                tx.update(
                    CouponItem(pk=coupon_key(code)),
                    actions=[CouponItem.redeemed.add(1)],
                    condition=(CouponItem.version == coupon.version) & (CouponItem.redeemed < coupon.max_redemptions),
                    return_values=ALL_OLD,
                )
                if coupon.per_plate_limit is not None:
                    tx.update(
                        CouponItem(pk=plate_key(code, r.before.plate)),
                        actions=[CouponItem.redeemed.add(1)],
                        condition=CouponItem.redeemed.does_not_exist() | (CouponItem.redeemed < coupon.per_plate_limit),
                        return_values=ALL_OLD,
                    )
                tx.save(_bill_item(r.after), condition=BillItem.version == r.before.version, return_values=ALL_OLD)
                self._ledger.stage(tx, r.posting)
        except TransactWriteError as exc:
            if transaction_conflict(exc):
                return Outcome.STALE
            if not failed_conditions(exc):
                raise
            failed = _failed_keys(exc)
            if redemption_key(code, bill_id) in failed or f"POSTING#{r.posting.posting_id}" in failed:
                return Outcome.ALREADY
            if coupon_key(code) in failed:
                current = self.require(code)
                if current.version == coupon.version and current.redeemed >= coupon.max_redemptions:
                    return Outcome.EXHAUSTED
                return Outcome.STALE  # changed (deactivated, edited): re-read and re-decide
            if plate_key(code, r.before.plate) in failed:
                return Outcome.PLATE_LIMIT
            return Outcome.STALE  # the bill moved on
        return Outcome.REDEEMED


def _failed_keys(exc: TransactWriteError) -> set[str]:
    """The hash keys of the items whose condition failed, from the old images every conditional item of
    the transaction asks for (DynamoDB lists reasons in its own order of the items, not the caller's)."""
    return {
        (r.raw_item or {}).get("pk", {}).get("S", "")
        for r in exc.cancellation_reasons or []
        if r is not None and r.code == "ConditionalCheckFailed"
    }
