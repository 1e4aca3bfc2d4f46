"""Put new event items on the bus: the table's stream batches, and batches recovered later."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from shared.adapters import event_bus
from shared.config import settings
from shared.store import outbox
from shared.store.table import Item, from_dynamo


def publish(items: Sequence[Item]) -> set[str]:
    """Publish event items; return the ids of those EventBridge did not accept."""
    if not items:
        return set()
    bus = settings().event_bus_name
    rejected = event_bus.put_events([outbox.entry(item, bus) for item in items])
    return {items[index]["event_id"] for index in rejected}


def _new_events(records: Iterable[dict[str, Any]]) -> dict[str, Item]:
    """The event items inserted by stream records, by sequence number. Other records are
    skipped: the event source filter keeps them away on AWS."""
    return {
        record["dynamodb"]["SequenceNumber"]: from_dynamo(record["dynamodb"]["NewImage"])
        for record in records
        if record.get("eventName") == "INSERT"
        and record["dynamodb"].get("NewImage", {}).get("entity", {}).get("S") == "Event"
    }


def event_items(records: Iterable[dict[str, Any]]) -> list[Item]:
    return list(_new_events(records).values())


def publish_stream_batch(records: Sequence[dict[str, Any]]) -> list[str]:
    """Publish the event items inserted in a DynamoDB stream batch; return the sequence numbers
    of records to retry (Lambda's partial batch response)."""
    events = _new_events(records)
    rejected = publish(list(events.values()))
    return [sequence for sequence, item in events.items() if item["event_id"] in rejected]
