"""Filling a work queue: many messages, ten per SendMessageBatch, resent until SQS took them all.

Work queues (the import rows, the customers of a collection run) are filled by one function
rather than fed by an EventBridge rule: one input becomes many messages, which a rule cannot
express. Their consumers are idempotent, so sending a message again after a crash is harmless.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator, Sequence

from shared.adapters import aws

BATCH_ENTRIES = 10  # SendMessageBatch takes at most ten messages
BATCH_BYTES = 240_000  # ... and at most 256 KiB in all
SEND_ATTEMPTS = 5


class FanOutError(RuntimeError):
    """SQS refused some messages, or kept failing them; the caller fails and is retried."""


def send_all(queue_url: str, bodies: Sequence[str]) -> int:
    """Send every body to ``queue_url``; answers how many messages that was."""
    if bodies and not queue_url:
        raise FanOutError("the work queue's URL is not set")
    for batch in _batches(bodies):
        _send(queue_url, batch)
    return len(bodies)


def _batches(bodies: Sequence[str]) -> Iterator[list[str]]:
    batch: list[str] = []
    size = 0
    for body in bodies:
        length = len(body.encode())
        if batch and (len(batch) == BATCH_ENTRIES or size + length > BATCH_BYTES):
            yield batch
            batch, size = [], 0
        batch.append(body)
        size += length
    if batch:
        yield batch


def _send(queue_url: str, bodies: list[str]) -> None:
    entries = [{"Id": str(n), "MessageBody": body} for n, body in enumerate(bodies)]
    for attempt in range(SEND_ATTEMPTS):
        answer = aws.client("sqs").send_message_batch(QueueUrl=queue_url, Entries=entries)
        failed = answer.get("Failed", [])
        if not failed:
            return
        if any(failure.get("SenderFault") for failure in failed):
            raise FanOutError(f"SQS refused messages: {json.dumps(failed)}")
        retry = {failure["Id"] for failure in failed}
        entries = [entry for entry in entries if entry["Id"] in retry]
        time.sleep(0.1 * 2**attempt)
    raise FanOutError(f"SQS kept failing {len(entries)} message(s)")
