"""Entry point: the ledger table's stream → the money records the books depend on (payments, refunds,
adjustments, write-offs) as objects in the S3 archive, appended to the archive's transparency log.

Off the paying request's path: a payment's commit writes only DynamoDB; this function archives the new
postings in batches. A failure raises, so the stream delivers the batch again (recording is idempotent)."""

from __future__ import annotations

from aws_lambda_powertools.utilities.data_classes import DynamoDBStreamEvent, event_source
from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import DynamoDBRecordEventName

from shared.archive.books import posting_of_image
from shared.bootstrap import services
from shared.observability import count, flush, logger


@event_source(data_class=DynamoDBStreamEvent)
def handler(event: DynamoDBStreamEvent, context) -> dict:
    postings = [
        posting
        for record in event.records
        if record.event_name == DynamoDBRecordEventName.INSERT and record.dynamodb and record.dynamodb.new_image
        for posting in [posting_of_image(record.dynamodb.new_image)]
        if posting is not None
    ]
    keys = services().books.record(postings) if postings else []
    count("MoneyRecordsArchived", len(keys))
    logger.info("books archived", extra={"postings": len(postings), "objects": len(keys)})
    flush()
    return {"archived": len(keys), "objects": keys}
