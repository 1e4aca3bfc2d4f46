"""The triggers of the outbox: table stream -> EventBridge, and the recovery of failed batches.

app.py wires each function to its queue, schedule or stream; each imports its use case when
it runs, so a Lambda's cold start loads only what it runs.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from chalice.app import DynamoDBEvent, SQSEvent


def publish_events(event: DynamoDBEvent) -> dict[str, Any]:
    from functions.outbox.publish_events import publish_stream_batch

    retry = publish_stream_batch(event.to_dict()["Records"])
    return {"batchItemFailures": [{"itemIdentifier": sequence} for sequence in retry]}


def recover_events(event: SQSEvent) -> dict[str, Any]:
    from functions.outbox.recover_events import recover_message
    from shared.adapters.bus_events import handle_bodies

    return handle_bodies(event.to_dict(), recover_message, event.context)
