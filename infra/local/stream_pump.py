"""Delivers a table's DynamoDB stream to its function in batches, as a Lambda event-source mapping does.

moto keeps streams but never invokes functions from them without Docker; this pump reads the stream
and calls the handler. It reads through moto's streams backend directly: moto 5.2.5's HTTP handler for
DynamoDB Streams answers "Not yet implemented" to botocore 1.44 clients, while the backend is complete. A failed batch is retried from the same position, like the real
mapping, so the handler must be idempotent (it is).
"""

from __future__ import annotations

import os

from moto.core import DEFAULT_ACCOUNT_ID
from moto.dynamodb.models import dynamodb_backends
from moto.dynamodbstreams.models import dynamodbstreams_backends

from infra.local import lambda_dispatch
from shared import resources


class StreamPump:
    def __init__(self, function: resources.Function) -> None:
        assert function.stream_source
        self.function = function
        self._table = resources.table(function.stream_source)
        self._iterators: dict[str, str] = {}
        self.failures = 0

    @staticmethod
    def _backend():
        return dynamodbstreams_backends[DEFAULT_ACCOUNT_ID][os.environ.get("AWS_DEFAULT_REGION", "us-east-1")]

    def _shards(self) -> list[tuple[str, str]]:
        # The table's LatestStreamArn as DescribeTable answers it, read from moto's table itself: the pump
        # asks every second in ``make run`` (through botocore that was ~90 % of an idle stack's CPU).
        table = dynamodb_backends[DEFAULT_ACCOUNT_ID][os.environ.get("AWS_DEFAULT_REGION", "us-east-1")].get_table(self._table.name)
        if not table.latest_stream_label:
            raise KeyError(f"{self._table.name} has no stream")
        arn = f"{table.table_arn}/stream/{table.latest_stream_label}"
        shards = self._backend().describe_stream(arn)["Shards"]
        return [(arn, s["ShardId"]) for s in shards]

    def start_at_latest(self) -> None:
        """After a restored snapshot: what the stream already holds was delivered before the restart."""
        streams = self._backend()
        for arn, shard in self._shards():
            self._iterators[shard] = streams.get_shard_iterator(arn, shard, "LATEST", None).arn

    def _batch(self, arn: str, shard: str, records: list[dict]) -> dict:
        """The event Lambda sends: each record names its stream (``eventSourceARN``, which moto's records
        lack); with a tumbling window the batch also names its shard and carries the window's state."""
        event: dict = {"Records": [{**r, "eventSourceARN": arn} for r in records]}
        if self.function.stream_window_s:
            event.update(shardId=shard, eventSourceARN=arn, state={}, isFinalInvokeForWindow=False,
                         isWindowTerminatedEarly=False)
        return event

    def pump(self) -> int:
        """Deliver everything pending; returns the number of records delivered."""
        streams = self._backend()
        delivered = 0
        for arn, shard in self._shards():
            iterator = self._iterators.get(shard) or streams.get_shard_iterator(arn, shard, "TRIM_HORIZON", None).arn
            while True:
                out = streams.get_records(iterator, self.function.batch_size)
                records = out.get("Records", [])
                if not records:
                    break
                _, errored = lambda_dispatch.invoke(self.function.name, self._batch(arn, shard, records))
                if errored:
                    self.failures += 1
                    break  # retried from the same position on the next pump
                delivered += len(records)
                iterator = out["NextShardIterator"]
                self._iterators[shard] = iterator
        return delivered
