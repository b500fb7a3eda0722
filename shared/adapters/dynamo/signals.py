"""Supervision signals in DynamoDB (the SignalStore port). ``supervision`` table (pk, sk):

=====================  =====================================  ==========================================
item                   pk / sk                                attributes
=====================  =====================================  ==========================================
a lot's day figures    ``LOT#<lot>`` / ``DAY#<day>``          doc
a signal               ``LOT#<lot>`` / ``SIG#<day>#<kind>``   doc, version, district_code (``by_district``)
compliance snapshot    ``COMPLIANCE`` / ``DAY#<day>``         doc
=====================  =====================================  ==========================================

Figures, signals and snapshots are put-if-absent; a review replaces a signal over its previous version.
"""

from __future__ import annotations

from pynamodb.attributes import JSONAttribute, NumberAttribute, UnicodeAttribute
from pynamodb.exceptions import DoesNotExist

from shared import resources
from shared.adapters.dynamo.conditions import save_if
from shared.adapters.dynamo.models import index_of, keyed
from shared.supervision.signals import LotDay, Signal, parse_signal_id

COMPLIANCE = "COMPLIANCE"


_ByDistrict = index_of(resources.SUPERVISION, "by_district")


class SupervisionItem(keyed(resources.SUPERVISION)):
    doc = JSONAttribute(null=True)
    version = NumberAttribute(null=True)
    district_code = UnicodeAttribute(null=True)
    by_district = _ByDistrict()


def _key(signal_id: str) -> tuple[str, str] | None:
    parsed = parse_signal_id(signal_id)
    if parsed is None:
        return None
    kind, lot_id, day = parsed
    return f"LOT#{lot_id}", f"SIG#{day}#{kind}"


class SignalTable:
    def add_day(self, day: LotDay) -> bool:
        item = SupervisionItem(pk=f"LOT#{day.lot_id}", sk=f"DAY#{day.day}", doc=day.doc())
        return save_if(item, SupervisionItem.pk.does_not_exist())

    def days(self, lot_id: str, day: str, n: int) -> list[LotDay]:
        cond = SupervisionItem.sk.between("DAY#", f"DAY#{day}")
        items = SupervisionItem.query(f"LOT#{lot_id}", cond, scan_index_forward=False, consistent_read=True, limit=n + 1)
        docs = [i.doc for i in items if i.sk != f"DAY#{day}"][:n]
        return [LotDay.from_doc(d) for d in reversed(docs)]

    def add(self, signal: Signal) -> bool:
        pk, sk = _key(signal.signal_id)
        item = SupervisionItem(pk=pk, sk=sk, doc=signal.model_dump(mode="json"), version=signal.version,
                               district_code=signal.district_code)
        return save_if(item, SupervisionItem.pk.does_not_exist())

    def get(self, signal_id: str) -> Signal | None:
        key = _key(signal_id)
        if key is None:
            return None
        try:
            return Signal.model_validate(SupervisionItem.get(*key, consistent_read=True).doc)
        except DoesNotExist:
            return None

    def replace(self, signal: Signal) -> bool:
        pk, sk = _key(signal.signal_id)
        item = SupervisionItem(pk=pk, sk=sk, doc=signal.model_dump(mode="json"), version=signal.version,
                               district_code=signal.district_code)
        return save_if(item, SupervisionItem.version == signal.version - 1)

    def of_district(self, district_code: str, first: str, last: str) -> list[Signal]:
        cond = SupervisionItem.sk.between(f"SIG#{first}", f"SIG#{last}#~")
        found = [Signal.model_validate(i.doc) for i in SupervisionItem.by_district.query(district_code, cond)]
        return sorted(found, key=lambda s: (s.day, s.kind, s.lot_id))

    def add_compliance(self, day: str, report: dict) -> bool:
        return save_if(SupervisionItem(pk=COMPLIANCE, sk=f"DAY#{day}", doc=report), SupervisionItem.pk.does_not_exist())

    def compliance(self, first: str, last: str) -> list[dict]:
        cond = SupervisionItem.sk.between(f"DAY#{first}", f"DAY#{last}")
        return [i.doc for i in SupervisionItem.query(COMPLIANCE, cond, consistent_read=True)]
