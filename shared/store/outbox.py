"""The transactional outbox.

A state change is ONE transaction: the new state (guarded by a condition), an immutable event
item (the audit trail), and a pending marker per event. The table's stream hands new event items
to the publisher; the publisher deletes the marker once EventBridge has the event, and a scheduled
sweep republishes whatever stayed pending (stream retention is finite, an outage may be longer).
A consumer that reacts to an event adds a ``consumed`` marker for that event id to the same
transaction, so a redelivered event changes nothing the second time.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from datetime import timedelta
from typing import Any

from shared import clock
from shared.domain.events import DomainEvent
from shared.store import table
from shared.store.table import Item, Put, TransactionConflictError, Write

OUTBOX_SHARDS = 4
CONSUMED_TTL = timedelta(days=14)


class AlreadyConsumedError(Exception):
    """This consumer has already applied this event."""


class StaleStateError(Exception):
    """A state guard failed; ``failed`` holds the indexes (into ``state``) of the failed writes."""

    def __init__(self, failed: Sequence[int]) -> None:
        super().__init__(f"state guards failed at {list(failed)}")
        self.failed = tuple(failed)


def event_key(event_id: str, aggregate_id: str, occurred_at: str) -> tuple[str, str]:
    return f"AGG#{aggregate_id}", f"EVENT#{occurred_at}#{event_id}"


def event_item(event: DomainEvent) -> Item:
    occurred_at = clock.iso(event.occurred_at)
    pk, sk = event_key(event.event_id, event.aggregate_id, occurred_at)
    return {
        "pk": pk,
        "sk": sk,
        "entity": "Event",
        "event_id": event.event_id,
        "detail_type": event.detail_type,
        "source": event.source,
        "aggregate_id": event.aggregate_id,
        "occurred_at": occurred_at,
        "detail": json.dumps(event.detail(), separators=(",", ":"), sort_keys=True),
    }


def pending_key(event_id: str, occurred_at: str) -> tuple[str, str]:
    shard = int(hashlib.sha256(event_id.encode()).hexdigest(), 16) % OUTBOX_SHARDS
    return f"OUTBOX#{shard}", f"{occurred_at}#{event_id}"


def _pending_item(item: Item) -> Item:
    pk, sk = pending_key(item["event_id"], item["occurred_at"])
    return {
        "pk": pk,
        "sk": sk,
        "entity": "OutboxPending",
        "event_pk": item["pk"],
        "event_sk": item["sk"],
    }


def _consumed_item(consumer: str, event_id: str) -> Item:
    expires_at = int((clock.now() + CONSUMED_TTL).timestamp())
    return {"pk": f"CONSUMED#{consumer}#{event_id}", "sk": "CONSUMED", "expires_at": expires_at}


def commit(
    state: Sequence[Write],
    events: Sequence[DomainEvent],
    *,
    consumed: tuple[str, str] | None = None,
) -> None:
    """Write the state, its events and their outbox markers at once (and mark ``consumed``).

    Raises ``AlreadyConsumedError`` when ``consumed`` = (consumer, event id) was applied before,
    ``StaleStateError`` when a state guard failed.
    """
    writes: list[Write] = list(state)
    for event in events:
        item = event_item(event)
        writes += [Put.new(item), Put(item=_pending_item(item))]
    if consumed:
        writes.append(Put(item=_consumed_item(*consumed), condition="attribute_not_exists(pk)"))
    try:
        table.transact(writes)
    except TransactionConflictError as conflict:
        if consumed and len(writes) - 1 in conflict.failed:
            raise AlreadyConsumedError(consumed[1]) from conflict
        raise StaleStateError([i for i in conflict.failed if i < len(state)]) from conflict


def pending_before(shard: int, cutoff: str, limit: int = 100) -> list[Item]:
    return table.query(f"OUTBOX#{shard}", sk_below=cutoff, limit=limit)


def mark_published(items: Sequence[Item]) -> None:
    table.delete_many(pending_key(item["event_id"], item["occurred_at"]) for item in items)


def load_events(pending: Sequence[Item]) -> list[Item]:
    return table.get_many((marker["event_pk"], marker["event_sk"]) for marker in pending)


def entry(item: Item, bus_name: str) -> dict[str, Any]:
    """The EventBridge PutEvents entry of an event item."""
    return {
        "Source": item["source"],
        "DetailType": item["detail_type"],
        "Detail": item["detail"],
        "EventBusName": bus_name,
        "Resources": [],
    }


def history(aggregate_id: str) -> list[Item]:
    """Every event of one aggregate, oldest first (the audit trail)."""
    pk, _ = event_key("", aggregate_id, "")
    items: list[Item] = []
    cursor: str | None = None
    while True:
        page = table.query_page(pk, sk_from="EVENT#", sk_to="EVENT#~", limit=100, cursor=cursor)
        items += page.items
        if not (cursor := page.cursor):
            return items
