"""Publish the stream batches the publisher gave up on.

After its retries Lambda sends a failed stream batch's place (``DDBStreamBatchInfo``: shard,
first and last sequence number, arrival times) to the publisher's on-failure queue, which this
worker reads. It reads those records from the stream again and publishes their event items;
while the bus still refuses them it fails, and the message comes back later (then ends in the
queue's alarmed DLQ, from which an operator redrives it). Once the stream no longer holds the
records (it keeps 24 hours), it finds the event items that occurred in the batch's time window
with a Scan of the table: rare, and dearer, but the event items are never deleted.

Publishing an event twice is harmless: every consumer is idempotent on the event id.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta
from typing import Any

from functions.outbox.publish_events import event_items, publish
from shared import clock
from shared.adapters import table_stream
from shared.model import Model
from shared.observability import logger
from shared.store import table

# An event occurred (its timestamp was taken) at most this long before its item reached the
# stream: the longest a function of the app runs (300 s, .chalice/config.json), and a minute.
WRITE_LAG = timedelta(minutes=6)
ARRIVAL_PRECISION = timedelta(seconds=1)  # Lambda gives the arrival times in whole seconds


class BusRefusedError(Exception):
    """EventBridge did not take every event of the batch: the message is retried."""


class Recovery(Model):
    found: int
    published: int
    from_stream: bool


def recover_message(body: str) -> Recovery:
    return recover(json.loads(body)["DDBStreamBatchInfo"])


def recover(batch: Mapping[str, Any]) -> Recovery:
    try:
        items = event_items(
            table_stream.records_between(
                batch["streamArn"],
                batch["shardId"],
                batch["startSequenceNumber"],
                batch["endSequenceNumber"],
            )
        )
        from_stream = True
    except table_stream.RecordsGoneError:
        logger.warning("stream records gone; finding the batch's events in the table")
        items = list(_occurred_between(batch))
        from_stream = False
    rejected = publish(items)
    if rejected:
        raise BusRefusedError(f"{len(rejected)} of {len(items)} events refused")
    return Recovery(found=len(items), published=len(items), from_stream=from_stream)


def _occurred_between(batch: Mapping[str, Any]) -> Iterable[table.Item]:
    first = datetime.fromisoformat(batch["approximateArrivalOfFirstRecord"])
    last = datetime.fromisoformat(batch["approximateArrivalOfLastRecord"])
    return table.scan(
        "#entity = :event AND #at BETWEEN :since AND :until",
        {"#entity": "entity", "#at": "occurred_at"},
        {
            ":event": "Event",
            ":since": clock.iso(first - WRITE_LAG),
            ":until": clock.iso(last + ARRIVAL_PRECISION),
        },
    )
