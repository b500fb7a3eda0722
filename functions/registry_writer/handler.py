"""Entry points: the ``lots``, ``tariffs`` and ``operators`` tables' streams → one archive object per stored
version of a lot, a tariff or an operator (``registry/``), appended to the archive's transparency log
(``shared/archive/registry.py``). A failure raises, so the stream delivers the batch again (recording is
idempotent)."""

from __future__ import annotations

from aws_lambda_powertools.utilities.data_classes import DynamoDBStreamEvent, event_source
from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import DynamoDBRecordEventName

from shared.archive.registry import RegistryArchive, record_of_image
from shared.bootstrap import services
from shared.observability import count, flush, logger

STORED = (DynamoDBRecordEventName.INSERT, DynamoDBRecordEventName.MODIFY)


def _archive(table: str, event: DynamoDBStreamEvent) -> dict:
    found = [
        record
        for r in event.records
        if r.event_name in STORED and r.dynamodb and r.dynamodb.new_image
        for record in [record_of_image(table, r.dynamodb.new_image)]
        if record is not None
    ]
    svc = services()
    keys = RegistryArchive(svc.stores.archive, svc.audit_log).record(found) if found else []
    count("RegistryRecordsArchived", len(keys))
    logger.info("registry archived", extra={"table": table, "objects": len(keys)})
    flush()
    return {"archived": len(keys), "objects": keys}


@event_source(data_class=DynamoDBStreamEvent)
def lots(event: DynamoDBStreamEvent, context) -> dict:
    return _archive("lots", event)


@event_source(data_class=DynamoDBStreamEvent)
def tariffs(event: DynamoDBStreamEvent, context) -> dict:
    return _archive("tariffs", event)


@event_source(data_class=DynamoDBStreamEvent)
def operators(event: DynamoDBStreamEvent, context) -> dict:
    return _archive("operators", event)
