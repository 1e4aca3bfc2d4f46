"""Bus events from SQS whose failures ask for a later retry than the queue's visibility timeout.

Like ``bus_events.handle_batch`` (one record at a time, partial batch response), but the handler
also gets how often SQS delivered the message, and may raise ``RetryLaterError``: the message's
visibility is then set to the delay asked for (exponential backoff), best-effort - if that call
fails, the queue's own visibility timeout applies - and the record is reported as failed.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

from shared.adapters import aws
from shared.adapters.bus_events import BusEvent, process_records
from shared.observability import logger

MAX_VISIBILITY_SECONDS = 12 * 3600  # SQS's limit


class RetryLaterError(Exception):
    """Processing failed; try this message again in ``delay_seconds``."""

    def __init__(self, message: str, delay_seconds: int) -> None:
        super().__init__(message)
        self.delay_seconds = delay_seconds


def handle_batch(
    event: dict[str, Any], handle: Callable[[BusEvent, int], object], context: Any = None
) -> dict[str, Any]:
    """Apply ``handle(bus event, receive count)`` to every record; answer batchItemFailures."""

    def record_handler(record: SQSRecord) -> None:
        message = BusEvent.model_validate_json(record.body)
        receive_count = int(record.attributes.approximate_receive_count or 1)
        try:
            handle(message, receive_count)
        except RetryLaterError as retry:
            delay(record, retry.delay_seconds)
            raise

    return process_records(event, record_handler, context)


def queue_url(queue_arn: str) -> str:
    """arn:aws:sqs:<region>:<account>:<name> -> the queue's URL."""
    _, partition, _, region, account, name = queue_arn.split(":", 5)
    domain = "amazonaws.com.cn" if partition == "aws-cn" else "amazonaws.com"
    return f"https://sqs.{region}.{domain}/{account}/{name}"


def delay(record: SQSRecord, seconds: int) -> bool:
    """Hide the message for ``seconds`` from now; False (logged) if SQS refused."""
    try:
        aws.client("sqs").change_message_visibility(
            QueueUrl=queue_url(record.event_source_arn),
            ReceiptHandle=record.receipt_handle,
            VisibilityTimeout=max(0, min(seconds, MAX_VISIBILITY_SECONDS)),
        )
    except Exception:
        logger.warning(
            "could not delay the retry; the queue's visibility timeout applies",
            extra={"message_id": record.message_id},
            exc_info=True,
        )
        return False
    return True
