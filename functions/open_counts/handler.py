"""Entry point: the event-acks table's stream → each lot's open-session count (issue 10).

The mapping has a tumbling window only so that every batch names its shard (``shardId``; a plain DynamoDB
stream batch does not), which the exactly-once marks need; the window's state is not used, but Lambda
treats an answer without ``state`` as a failure. A failure raises: the stream delivers the batch again,
and what was counted is not counted twice (shared/availability/open_counts.py)."""

from __future__ import annotations

from aws_lambda_powertools.utilities.data_classes import DynamoDBStreamEvent, event_source
from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import DynamoDBRecordEventName

from shared.availability.open_counts import CountedEvent
from shared.bootstrap import services
from shared.observability import count, flush, logger


@event_source(data_class=DynamoDBStreamEvent)
def handler(event: DynamoDBStreamEvent, context) -> dict:
    if not event.raw_event.get("Records"):  # the window's last invocation comes without records
        return {"state": {}}
    changes = [
        CountedEvent(image["lot_id"], int(image["open_delta"]), int(record.dynamodb.sequence_number))
        for record in event.records
        if record.event_name == DynamoDBRecordEventName.INSERT and record.dynamodb and record.dynamodb.new_image
        for image in [record.dynamodb.new_image]
        if image.get("open_delta")
    ]
    applied = services().open_counts.count(event.raw_event.get("shardId", ""), changes) if changes else {}
    count("OpenCountChanges", len(changes))
    logger.info("open counts", extra={"changes": len(changes), "counted": applied})
    flush()
    return {"state": {}}  # a tumbling window's answer: the state (unused) and nothing else
