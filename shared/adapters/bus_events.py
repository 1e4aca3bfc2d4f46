"""SQS batches as consumers receive them, most often EventBridge envelopes.

Each record is handled on its own; failures are reported per message (partial batch response),
so one poison message goes to its DLQ after its retries without holding the others back.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from aws_lambda_powertools.utilities.batch import (
    BatchProcessor,
    EventType,
    process_partial_response,
)
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.parser.models import EventBridgeModel
from pydantic import BaseModel


class EventMetadata(BaseModel):
    event_id: str
    aggregate_id: str
    occurred_at: str


class BusDetail(BaseModel):
    metadata: EventMetadata
    data: dict[str, Any]


class BusEvent(EventBridgeModel):
    detail: BusDetail


def process_records(
    event: dict[str, Any], record_handler: Callable[[SQSRecord], object], context: Any = None
) -> dict[str, Any]:
    """Handle every record of an SQS batch on its own; answer Lambda's batchItemFailures."""
    return dict(
        process_partial_response(
            event=event,
            record_handler=record_handler,
            processor=BatchProcessor(event_type=EventType.SQS),
            context=context,
        )
    )


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
