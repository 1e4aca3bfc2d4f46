"""Put new event items on the bus and clear their outbox markers."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from shared.adapters import event_bus
from shared.config import settings
from shared.store import outbox
from shared.store.table import Item, from_dynamo


def publish(items: Sequence[Item]) -> set[str]:
    """Publish event items; return the ids of those EventBridge did not accept (still pending)."""
    if not items:
        return set()
    bus = settings().event_bus_name
    rejected = set(event_bus.put_events([outbox.entry(item, bus) for item in items]))
    outbox.mark_published([item for index, item in enumerate(items) if index not in rejected])
    return {items[index]["event_id"] for index in rejected}


def publish_stream_batch(records: Sequence[dict[str, Any]]) -> list[str]:
    """Publish the event items inserted in a DynamoDB stream batch.

    Returns the sequence numbers of records to retry (Lambda's partial batch response). Records
    that are not new event items are skipped: the event source filter keeps them away on AWS.
    """
    events = {
        record["dynamodb"]["SequenceNumber"]: from_dynamo(record["dynamodb"]["NewImage"])
        for record in records
        if record.get("eventName") == "INSERT"
        and record["dynamodb"].get("NewImage", {}).get("entity", {}).get("S") == "Event"
    }
    rejected = publish(list(events.values()))
    return [sequence for sequence, item in events.items() if item["event_id"] in rejected]
