"""The trigger of the lake: the table stream -> the lake's delivery streams.

app.py wires it to the stream; it imports its use case when it runs, so the Lambda's cold start
loads only what it runs.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from chalice.app import DynamoDBEvent


def land_in_lake(event: DynamoDBEvent) -> dict[str, Any]:
    from functions.lake.land import land_stream_batch

    retry = land_stream_batch(event.to_dict()["Records"])
    return {"batchItemFailures": [{"itemIdentifier": sequence} for sequence in retry]}
