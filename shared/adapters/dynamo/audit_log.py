"""The transparency log's head in DynamoDB (table ``audit-log``), advanced by a conditional write.

Items: ``HEAD`` (size, root, version, previous_size, pending, published, sequenced_at) and one
``SEQ#<archive object key>`` per sequenced object, written when its head is published. Sunlight keeps its
checkpoint lock in DynamoDB the same way.
"""

from __future__ import annotations

from collections.abc import Sequence

from botocore.exceptions import ClientError

from shared import resources
from shared.adapters.aws import client
from shared.audit.ports import Head

HEAD = "HEAD"


def _table() -> str:
    return resources.table("audit-log").name


def _head_item(h: Head) -> dict:
    return {
        "pk": {"S": HEAD},
        "size": {"N": str(h.size)},
        "root": {"B": h.root or b"\0"},
        "version": {"N": str(h.version)},
        "previous_size": {"N": str(h.previous_size)},
        "pending": {"L": [{"S": k} for k in h.pending]},
        "published": {"BOOL": h.published},
        "sequenced_at": {"S": h.sequenced_at or "-"},
    }


def _head_of(item: dict) -> Head:
    return Head(
        size=int(item["size"]["N"]),
        root=bytes(item["root"]["B"]) if int(item["size"]["N"]) else b"",
        version=int(item["version"]["N"]),
        previous_size=int(item["previous_size"]["N"]),
        pending=tuple(v["S"] for v in item["pending"]["L"]),
        published=item["published"]["BOOL"],
        sequenced_at=item["sequenced_at"]["S"],
    )


class DynamoLogHeads:
    def head(self) -> Head:
        item = client("dynamodb").get_item(TableName=_table(), Key={"pk": {"S": HEAD}}, ConsistentRead=True)
        return _head_of(item["Item"]) if "Item" in item else Head()

    def sequenced(self, object_keys: Sequence[str]) -> set[str]:
        keys = sorted(set(object_keys))
        found = set(self.head().pending) & set(keys)
        for i in range(0, len(keys), 100):
            chunk = [{"pk": {"S": f"SEQ#{k}"}} for k in keys[i : i + 100]]
            request = {_table(): {"Keys": chunk, "ConsistentRead": True, "ProjectionExpression": "pk"}}
            while request:
                out = client("dynamodb").batch_get_item(RequestItems=request)
                found |= {r["pk"]["S"].removeprefix("SEQ#") for r in out["Responses"].get(_table(), [])}
                request = out.get("UnprocessedKeys") or None
        return found

    def advance(self, old: Head, new: Head) -> bool:
        try:
            client("dynamodb").put_item(
                TableName=_table(),
                Item=_head_item(new),
                ConditionExpression="attribute_not_exists(pk) OR version = :v",
                ExpressionAttributeValues={":v": {"N": str(old.version)}},
            )
            return True
        except ClientError as exc:
            if exc.response["Error"]["Code"] == "ConditionalCheckFailedException":
                return False
            raise

    def mark_published(self, head: Head) -> bool:
        keys = list(head.pending)
        for i in range(0, len(keys), 25):
            puts = [{"PutRequest": {"Item": {"pk": {"S": f"SEQ#{k}"}, "first_size": {"N": str(head.previous_size)}}}}
                    for k in keys[i : i + 25]]  # fmt: skip
            request = {_table(): puts}
            while request:
                request = client("dynamodb").batch_write_item(RequestItems=request).get("UnprocessedItems") or None
        try:
            client("dynamodb").update_item(
                TableName=_table(),
                Key={"pk": {"S": HEAD}},
                UpdateExpression="SET published = :t",
                ConditionExpression="version = :v",
                ExpressionAttributeValues={":t": {"BOOL": True}, ":v": {"N": str(head.version)}},
            )
            return True
        except ClientError as exc:
            if exc.response["Error"]["Code"] == "ConditionalCheckFailedException":
                return False
            raise
