"""Entry point: the event-acks table's stream → JSON Lines objects in the S3 archive."""

from __future__ import annotations

from aws_lambda_powertools.utilities.data_classes import DynamoDBStreamEvent, event_source
from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import DynamoDBRecordEventName

from shared.archive.writer import ArchivedEvent
from shared.bootstrap import services
from shared.observability import count, flush, logger


@event_source(data_class=DynamoDBStreamEvent)
def handler(event: DynamoDBStreamEvent, context) -> dict:
    inserted = [
        ArchivedEvent.from_image(record.dynamodb.new_image)
        for record in event.records
        if record.event_name == DynamoDBRecordEventName.INSERT and record.dynamodb and record.dynamodb.new_image
    ]
    keys = services().archive.write(inserted) if inserted else []
    count("EventsArchived", len(inserted))
    logger.info("archived", extra={"events": len(inserted), "objects": len(keys)})
    flush()
    return {"archived": len(inserted), "objects": keys}
