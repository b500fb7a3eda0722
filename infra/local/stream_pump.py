"""Delivers a table's DynamoDB stream to its function in batches, as a Lambda event-source mapping does.

moto keeps streams but never invokes functions from them without Docker; this pump reads with
GetRecords and calls the handler. A failed batch is retried from the same position, like the real
mapping, so the handler must be idempotent (it is).
"""

from __future__ import annotations

from shared import resources
from shared.adapters.aws import client
from infra.local import lambda_dispatch


class StreamPump:
    def __init__(self, function: resources.Function) -> None:
        assert function.stream_source
        self.function = function
        self._table = resources.table(function.stream_source)
        self._iterators: dict[str, str] = {}
        self.failures = 0

    def _shards(self) -> list[tuple[str, str]]:
        arn = client("dynamodb").describe_table(TableName=self._table.name)["Table"]["LatestStreamArn"]
        shards = client("dynamodbstreams").describe_stream(StreamArn=arn)["StreamDescription"]["Shards"]
        return [(arn, s["ShardId"]) for s in shards]

    def pump(self) -> int:
        """Deliver everything pending; returns the number of records delivered."""
        streams = client("dynamodbstreams")
        delivered = 0
        for arn, shard in self._shards():
            iterator = self._iterators.get(shard) or streams.get_shard_iterator(
                StreamArn=arn, ShardId=shard, ShardIteratorType="TRIM_HORIZON"
            )["ShardIterator"]
            while True:
                out = streams.get_records(ShardIterator=iterator, Limit=self.function.batch_size)
                records = out.get("Records", [])
                if not records:
                    break
                _, errored = lambda_dispatch.invoke(self.function.name, {"Records": records})
                if errored:
                    self.failures += 1
                    break  # retried from the same position on the next pump
                delivered += len(records)
                iterator = out["NextShardIterator"]
                self._iterators[shard] = iterator
        return delivered
