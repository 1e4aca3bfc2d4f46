"""The transactional outbox.

A state change is ONE transaction: the new state (guarded by a condition) and an immutable event
item per event (the audit trail; its JSON detail stored compressed, ``stored``). The event item
is the outbox entry too, at no further write: the table's stream hands new event items to the
publisher, Lambda retries a batch the bus refused, and a batch that kept failing goes (as its
place in the stream) to a recovery queue whose worker reads those records again and publishes
them (``functions/outbox/recover_events.py``). A consumer that reacts to an event adds a
``consumed`` marker for that event id to the same transaction, so a redelivered event changes
nothing the second time.

The event items are hash-chained per aggregate (``shared.domain.audit``): each carries its actor,
``seq`` (1.. per aggregate), ``prev_hash`` and ``hash``. ``commit`` reads the chain heads of the
aggregates it writes (one BatchGetItem), links the events and moves each head in the same
transaction, guarded on the seq it read; when only head guards fail (another writer chained
meanwhile) it reads the heads again and retries. After a successful commit it counts the business
outcomes of the events (``shared.outcomes``).
"""

from __future__ import annotations

import json
import random
import time
from collections.abc import Collection, Iterable, Mapping, Sequence
from datetime import timedelta
from typing import Any

from shared import clock, outcomes
from shared.domain import audit
from shared.domain.events import DomainEvent
from shared.store import table
from shared.store.table import Item, Put, TransactionConflictError, Write

CONSUMED_TTL = timedelta(days=14)
HEAD_ATTEMPTS = 8  # tries of a commit that loses only the race for a chain head
HEAD_BACKOFF_SECONDS = 0.01  # the first retry waits up to this (jittered), doubling each time


class AlreadyConsumedError(Exception):
    """This consumer has already applied this event."""


class StaleStateError(Exception):
    """A state guard failed; ``failed`` holds the indexes (into ``state``) of the failed writes."""

    def __init__(self, failed: Sequence[int]) -> None:
        super().__init__(f"state guards failed at {list(failed)}")
        self.failed = tuple(failed)


def event_key(event_id: str, aggregate_id: str, occurred_at: str) -> tuple[str, str]:
    return f"AGG#{aggregate_id}", f"EVENT#{occurred_at}#{event_id}"


def event_item(event: DomainEvent, chain: audit.Link | None = None) -> Item:
    """The immutable event item; ``chain`` is its link in the aggregate's hash chain."""
    occurred_at = clock.iso(event.occurred_at)
    pk, sk = event_key(event.event_id, event.aggregate_id, occurred_at)
    item: Item = {
        "pk": pk,
        "sk": sk,
        "entity": "Event",
        "event_id": event.event_id,
        "detail_type": event.detail_type,
        "source": event.source,
        "aggregate_id": event.aggregate_id,
        "occurred_at": occurred_at,
        "actor": event.actor,
        "detail": json.dumps(event.detail(), separators=(",", ":"), sort_keys=True),
    }
    if chain:
        item |= {"seq": chain.seq, "prev_hash": chain.prev_hash, "hash": chain.hash}
    return item


def stored(item: Item) -> Item:
    """The event item as written: its detail compressed (read back as text by every reader)."""
    return {**item, "detail": table.compressed(item["detail"])}


def head_key(aggregate_id: str) -> tuple[str, str]:
    return f"AUDITHEAD#{aggregate_id}", "HEAD"


def read_heads(aggregate_ids: Sequence[str]) -> dict[str, audit.ChainHead]:
    """The chain heads of these aggregates (one BatchGetItem); a new aggregate has none."""
    return heads_among(table.get_many(head_key(aggregate_id) for aggregate_id in aggregate_ids))


def heads_among(items: Iterable[Item]) -> dict[str, audit.ChainHead]:
    """The chain heads found among ``items`` (read with others)."""
    return {
        item["aggregate_id"]: audit.ChainHead(seq=int(item["seq"]), hash=item["hash"])
        for item in items
        if item.get("entity") == "AuditHead"
    }


def _head_write(aggregate_id: str, before: audit.ChainHead, after: audit.ChainHead) -> Put:
    pk, sk = head_key(aggregate_id)
    item: Item = {
        "pk": pk,
        "sk": sk,
        "entity": "AuditHead",
        "aggregate_id": aggregate_id,
        "seq": after.seq,
        "hash": after.hash,
        "updated_at": clock.iso(clock.now()),
    }
    if before.seq == 0:
        return Put.new(item)
    return Put(item=item, condition="seq = :seq", values={":seq": before.seq})


def _chained(
    events: Sequence[DomainEvent], heads: dict[str, audit.ChainHead]
) -> tuple[list[Item], list[Put]]:
    """The event items linked after ``heads`` (in order per aggregate), and the head writes."""
    items: list[Item] = []
    moved: dict[str, audit.ChainHead] = {}
    for event in events:
        before = heads.get(event.aggregate_id, audit.ChainHead())
        head = moved.get(event.aggregate_id, before)
        unlinked = event_item(event)
        (chain,) = audit.link(head, [unlinked])
        items.append(event_item(event, chain))
        moved[event.aggregate_id] = audit.head_after(head, [chain])
    writes = [
        _head_write(aggregate_id, heads.get(aggregate_id, audit.ChainHead()), after)
        for aggregate_id, after in moved.items()
    ]
    return items, writes


def _consumed_item(consumer: str, event_id: str) -> Item:
    expires_at = int((clock.now() + CONSUMED_TTL).timestamp())
    return {"pk": f"CONSUMED#{consumer}#{event_id}", "sk": "CONSUMED", "expires_at": expires_at}


def items_written(state: Sequence[Write], events: Sequence[DomainEvent]) -> int:
    """The writes ``commit`` makes of them in its transaction: the state, each event's item, and
    the head of each aggregate the events chain after."""
    return len(state) + len(events) + len({event.aggregate_id for event in events})


def commit(
    state: Sequence[Write],
    events: Sequence[DomainEvent],
    *,
    consumed: tuple[str, str] | None = None,
    created: Collection[str] = (),
    heads: Mapping[str, audit.ChainHead] | None = None,
) -> dict[str, audit.ChainHead]:
    """Write the state and its events at once (and mark ``consumed``);
    the chain heads of the events' aggregates after it.

    Raises ``AlreadyConsumedError`` when ``consumed`` = (consumer, event id) was applied before,
    ``StaleStateError`` when a state guard failed. A commit that loses only the race for a chain
    head (another writer chained an event of the same aggregate meanwhile) is retried here.
    ``created`` names aggregates this commit creates (their state is a ``Put.new``): their chains
    start without reading a head, the new head's own guard failing if one exists after all.
    ``heads``: the heads a previous commit of the caller returned, chained after without reading
    them again when they cover every aggregate (a head moved since loses that race, and is read).
    """
    aggregate_ids = list(dict.fromkeys(event.aggregate_id for event in events))
    known = heads if heads is not None and set(aggregate_ids) <= set(heads) else None
    for attempt in range(1, HEAD_ATTEMPTS + 1):
        if attempt == 1 and known is not None:
            current = dict(known)
        else:
            unread = set(created) if attempt == 1 else set()
            to_read = [aggregate_id for aggregate_id in aggregate_ids if aggregate_id not in unread]
            current = read_heads(to_read) if to_read else {}
        items, head_writes = _chained(events, current)
        writes: list[Write] = list(state)
        writes += [Put.new(stored(item)) for item in items]
        first_head = len(writes)
        writes += head_writes
        if consumed:
            writes.append(Put(item=_consumed_item(*consumed), condition="attribute_not_exists(pk)"))
        try:
            table.transact(writes)
        except TransactionConflictError as conflict:
            if consumed and len(writes) - 1 in conflict.failed:
                raise AlreadyConsumedError(consumed[1]) from conflict
            head_range = range(first_head, first_head + len(head_writes))
            heads_only = all(i in head_range for i in conflict.failed)
            if heads_only and attempt < HEAD_ATTEMPTS:
                time.sleep(random.uniform(0, HEAD_BACKOFF_SECONDS * 2 ** (attempt - 1)))
                continue
            raise StaleStateError([i for i in conflict.failed if i < len(state)]) from conflict
        outcomes.count(events)
        return {
            write.item["aggregate_id"]: audit.ChainHead(
                seq=write.item["seq"], hash=write.item["hash"]
            )
            for write in head_writes
        }
    raise AssertionError("unreachable: the last attempt returns or raises")


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
    items: list[Item] = []
    cursor: str | None = None
    while True:
        page = history_page(aggregate_id, limit=100, cursor=cursor)
        items += page.items
        if not (cursor := page.cursor):
            return items


def history_page(
    aggregate_id: str,
    *,
    since: str | None = None,
    until: str | None = None,
    limit: int = 100,
    cursor: str | None = None,
) -> table.Page:
    """One page of an aggregate's events, oldest first; ``since``/``until`` bound the time."""
    pk, _ = event_key("", aggregate_id, "")
    return table.query_page(
        pk,
        sk_from=f"EVENT#{since}" if since else "EVENT#",
        sk_to=f"EVENT#{until}~" if until else "EVENT#~",
        limit=limit,
        cursor=cursor,
    )


def head(aggregate_id: str) -> audit.ChainHead | None:
    item = table.get(*head_key(aggregate_id))
    return audit.ChainHead(seq=int(item["seq"]), hash=item["hash"]) if item else None


def heads_page(*, examined: int, limit: int, cursor: str | None = None) -> table.Page:
    """At most ``limit`` chain heads among the next ``examined`` items of the table (a Scan:
    verifying every chain is an auditor's rare question that reads every event anyway; listing
    the heads in an index would cost a write on every commit)."""
    return table.scan_page(
        "#entity = :head",
        {"#entity": "entity"},
        {":head": "AuditHead"},
        examined=examined,
        limit=limit,
        cursor=cursor,
    )
