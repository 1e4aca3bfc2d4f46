"""SQS batches for the import workers: each record on its own, failures reported per message."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from aws_lambda_powertools.utilities.batch import (
    BatchProcessor,
    EventType,
    process_partial_response,
)
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord


def handle_bodies(
    event: dict[str, Any], handle: Callable[[str], object], context: Any = None
) -> dict[str, Any]:
    """Apply ``handle`` to every message body; answer Lambda's batchItemFailures."""

    def record_handler(record: SQSRecord) -> None:
        handle(record.body)

    return dict(
        process_partial_response(
            event=event,
            record_handler=record_handler,
            processor=BatchProcessor(event_type=EventType.SQS),
            context=context,
        )
    )
