"""The city push's adapters: the outbox in DynamoDB, the HTTP transport, the target from configuration.

``city-pushes`` table (pk, sk):

===============  ==========================================  ==============================================
item             pk / sk                                     attributes
===============  ==========================================  ==============================================
push             ``LOT#<lot>`` / ``P#<utc queued>#<id>``     doc (the push), state
lot cursor       ``LOT#<lot>`` / ``CURSOR``                  last (sk of the last push delivered)
push id          ``ID#<push id>`` / ``ID``                   lot, push_sk: makes queuing idempotent
lots queued      ``LOTS`` / ``<lot>``                        (a lot that has ever queued a push)
===============  ==========================================  ==============================================

Queuing writes the id item and the push in one transaction, the id conditional on being new. A lot's
undelivered pushes are those after its cursor, in sort-key (queue) order.
"""

from __future__ import annotations

from datetime import UTC

from pynamodb.attributes import JSONAttribute, UnicodeAttribute
from pynamodb.exceptions import DoesNotExist, TransactWriteError
from pynamodb.transactions import TransactWrite

from shared import resources
from shared.adapters.dynamo.conditions import failed_conditions
from shared.adapters.dynamo.models import keyed, transaction_connection
from shared.citypush.model import Push, PushState
from shared.adapters.http_push import HttpTransport, push_target  # noqa: F401  (where they lived first)


class PushItem(keyed(resources.table("city-pushes"))):
    doc = JSONAttribute(null=True)
    state = UnicodeAttribute(null=True)
    last = UnicodeAttribute(null=True)
    lot = UnicodeAttribute(null=True)
    push_sk = UnicodeAttribute(null=True)


def _sk(push: Push) -> str:
    return f"P#{push.queued_at.astimezone(UTC).strftime('%Y-%m-%dT%H:%M:%S.%fZ')}#{push.push_id}"


class PushTable:
    def add(self, push: Push) -> bool:
        sk = _sk(push)
        try:
            with TransactWrite(connection=transaction_connection()) as tx:
                tx.save(PushItem(pk=f"ID#{push.push_id}", sk="ID", lot=push.lot_id, push_sk=sk),
                        condition=PushItem.pk.does_not_exist())
                tx.save(PushItem(pk=f"LOT#{push.lot_id}", sk=sk, doc=push.model_dump(mode="json"), state=push.state.value))
                tx.save(PushItem(pk="LOTS", sk=push.lot_id))
        except TransactWriteError as exc:
            if failed_conditions(exc):
                return False
            raise
        return True

    def head(self, lot_id: str, limit: int) -> list[Push]:
        try:
            cursor = PushItem.get(f"LOT#{lot_id}", "CURSOR", consistent_read=True).last or "P#"
        except DoesNotExist:
            cursor = "P#"
        items = PushItem.query(f"LOT#{lot_id}", PushItem.sk > cursor, consistent_read=True, limit=limit)
        return [Push.model_validate(i.doc) for i in list(items)[:limit] if i.sk.startswith("P#")]

    def lots(self) -> list[str]:
        return [i.sk for i in PushItem.query("LOTS", consistent_read=True)]

    def update(self, push: Push) -> None:
        PushItem(pk=f"LOT#{push.lot_id}", sk=self._sk_of(push), doc=push.model_dump(mode="json"), state=push.state.value).save()

    def delivered(self, push: Push) -> None:
        PushItem(pk=f"LOT#{push.lot_id}", sk="CURSOR", last=self._sk_of(push)).save()

    def _sk_of(self, push: Push) -> str:
        return _sk(push)

    def get(self, push_id: str) -> Push | None:
        try:
            ref = PushItem.get(f"ID#{push_id}", "ID", consistent_read=True)
            return Push.model_validate(PushItem.get(f"LOT#{ref.lot}", ref.push_sk, consistent_read=True).doc)
        except DoesNotExist:
            return None

    def undelivered(self) -> list[Push]:
        out = []
        for lot in self.lots():
            out += [p for p in self.head(lot, 1000) if p.state is not PushState.DELIVERED]
        return out
