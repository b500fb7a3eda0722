"""Entry point: the event-acks table's stream → each lot device's last-seen (its newest acceptance in the
batch, issue 10) and JSON Lines objects in the S3 archive, then those objects appended to the archive's
transparency log (a signed checkpoint makes them provable)."""

from __future__ import annotations

from datetime import datetime

from aws_lambda_powertools.utilities.data_classes import DynamoDBStreamEvent, event_source
from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import DynamoDBRecordEventName

from shared.archive.writer import ArchivedEvent
from shared.bootstrap import services
from shared.observability import count, flush, logger, measure


@event_source(data_class=DynamoDBStreamEvent)
def handler(event: DynamoDBStreamEvent, context) -> dict:
    inserted = [
        ArchivedEvent.from_image(record.dynamodb.new_image)
        for record in event.records
        if record.event_name == DynamoDBRecordEventName.INSERT and record.dynamodb and record.dynamodb.new_image
    ]
    keys = services().archive.write(inserted) if inserted else []
    count("EventsArchived", len(inserted))
    log = services().audit_log
    appended = log.append(keys) if keys and log is not None else None
    if appended is not None and inserted:
        waited = log.provable_after([datetime.fromisoformat(e.accepted_at) for e in inserted])
        measure("ProvableAfterMs", max(waited) * 1000)
    size = appended.head.size if appended else None
    logger.info("archived", extra={"events": len(inserted), "objects": len(keys), "log_size": size})
    flush()
    return {"archived": len(inserted), "objects": keys}
