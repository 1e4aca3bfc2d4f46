"""The triggers of the outbox: table stream -> EventBridge, and the scheduled sweep.

app.py wires each function to its queue, schedule or stream; each imports its use case when
it runs, so a Lambda's cold start loads only what it runs.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from chalice.app import CloudWatchEvent, DynamoDBEvent


def publish_events(event: DynamoDBEvent) -> dict[str, Any]:
    from functions.outbox.publish_events import publish_stream_batch

    retry = publish_stream_batch(event.to_dict()["Records"])
    return {"batchItemFailures": [{"itemIdentifier": sequence} for sequence in retry]}


def sweep_outbox(event: CloudWatchEvent) -> dict[str, Any]:
    from functions.outbox.sweep_outbox import sweep

    return sweep().model_dump()
