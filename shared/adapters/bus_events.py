"""SQS batches as consumers receive them, most often EventBridge envelopes.

Each record is handled on its own; failures are reported per message (Lambda's partial batch
response, ``ReportBatchItemFailures``), so one poison message goes to its DLQ after its retries
without holding the others back. A batch whose every record failed is reported so too: SQS
delivers them all again.

The loop and the envelope model are the project's own rather than Powertools' batch processor and
parser models: those import asyncio and a few dozen pydantic models, a tenth of every worker's
cold start, for what is a loop and one model here.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from pydantic import ConfigDict, Field

from shared.model import Model
from shared.observability import logger


class EventMetadata(Model):
    event_id: str
    aggregate_id: str
    occurred_at: str


class BusDetail(Model):
    metadata: EventMetadata
    data: dict[str, Any]


class BusEvent(Model):
    """An EventBridge event as a rule's SQS target receives it (the envelope's fields)."""

    model_config = ConfigDict(populate_by_name=True)

    version: str = "0"
    id: str
    source: str
    account: str
    time: datetime
    region: str
    resources: list[str] = []
    detail_type: str = Field(alias="detail-type")
    detail: BusDetail
    replay_name: str | None = Field(default=None, alias="replay-name")


class StoredBucket(Model):
    name: str


class StoredObject(Model):
    key: str


class ObjectCreatedDetail(Model):
    bucket: StoredBucket
    object: StoredObject


class ObjectCreated(Model):
    """S3's "Object Created" event as EventBridge delivers it: the bucket and the object's key
    (the fields of Powertools' ``S3EventNotificationEventBridgeModel`` a consumer reads)."""

    detail_type: str = Field(alias="detail-type")
    detail: ObjectCreatedDetail


def process_records(
    event: dict[str, Any], record_handler: Callable[[SQSRecord], object], context: Any = None
) -> dict[str, Any]:
    """Handle every record of an SQS batch on its own; answer Lambda's batchItemFailures."""
    failures = []
    for raw in event.get("Records", []):
        record = SQSRecord(raw)
        try:
            record_handler(record)
        except Exception:
            logger.exception("record failed", extra={"message_id": record.message_id})
            failures.append({"itemIdentifier": record.message_id})
    return {"batchItemFailures": failures}


def handle_batch(
    event: dict[str, Any], handle: Callable[[BusEvent], object], context: Any = None
) -> dict[str, Any]:
    """Apply ``handle`` to every bus event in an SQS batch; answer Lambda's batchItemFailures."""
    return process_records(
        event, lambda record: handle(BusEvent.model_validate_json(record.body)), context
    )


def handle_bodies(
    event: dict[str, Any], handle: Callable[[str], object], context: Any = None
) -> dict[str, Any]:
    """Apply ``handle`` to every message body (messages that are not bus events)."""
    return process_records(event, lambda record: handle(record.body), context)
