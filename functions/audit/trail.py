"""The audit trail: an entity's events (who, when, what changed) and the check of its hash chain."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from typing import Annotated, Any

from pydantic import ConfigDict, Field, StringConstraints, model_validator

from functions.accounts.paging import invalid_cursor
from shared import clock
from shared.domain import audit
from shared.domain.dates import BusinessDate, BusinessMoment
from shared.model import Model
from shared.store import outbox
from shared.store.table import InvalidCursorError, Item

Entity = Annotated[str, StringConstraints(min_length=1, max_length=200)]
Cursor = Annotated[str, StringConstraints(min_length=1, max_length=2048)]


def _bound(moment: date | datetime | None) -> str | None:
    if moment is None:
        return None
    if isinstance(moment, datetime):
        return clock.iso(moment if moment.tzinfo else moment.replace(tzinfo=UTC))
    return moment.isoformat()


class AuditQuery(Model):
    """GET /audit: one entity's events, oldest first, optionally within [from, to] (inclusive)."""

    model_config = ConfigDict(extra="forbid")

    entity: Entity
    since: BusinessDate | BusinessMoment | None = Field(default=None, alias="from")
    until: BusinessDate | BusinessMoment | None = Field(default=None, alias="to")
    limit: int = Field(default=50, ge=1, le=200)
    cursor: Cursor | None = None

    @model_validator(mode="after")
    def _ordered(self) -> AuditQuery:
        since, until = _bound(self.since), _bound(self.until)
        if since and until and since > until + "~":
            raise ValueError("'from' must not be after 'to'")
        return self


class VerifyQuery(Model):
    """GET /audit/verify: one entity's chain, or (without ``entity``) a page of every chain."""

    model_config = ConfigDict(extra="forbid")

    entity: Entity | None = None
    limit: int = Field(default=20, ge=1, le=100)
    cursor: Cursor | None = None


def to_wire(item: Item) -> dict[str, Any]:
    """One audit record: who did what to which entity when, and its place in the chain."""
    detail = json.loads(item["detail"])
    return {
        "seq": int(item["seq"]) if "seq" in item else None,
        "event_id": item["event_id"],
        "time": item["occurred_at"],
        "actor": item.get("actor"),
        "entity": item["aggregate_id"],
        "change": {"type": item["detail_type"], "data": detail.get("data", {})},
        "source": item["source"],
        "prev_hash": item.get("prev_hash"),
        "hash": item.get("hash"),
    }


def audit_trail(query: AuditQuery) -> dict[str, Any]:
    try:
        page = outbox.history_page(
            query.entity,
            since=_bound(query.since),
            until=_bound(query.until),
            limit=query.limit,
            cursor=query.cursor,
        )
    except InvalidCursorError:
        raise invalid_cursor() from None
    return {
        "entity": query.entity,
        "events": [to_wire(item) for item in page.items],
        "next_cursor": page.cursor,
    }


def verify_entity(entity: str) -> audit.Verification:
    """Walk the entity's whole chain against its stored head."""
    return audit.verify(entity, outbox.history(entity), outbox.head(entity))


def verify(query: VerifyQuery) -> dict[str, Any]:
    if query.entity is not None:
        return verify_entity(query.entity).to_wire()
    return verify_all(query.limit, query.cursor)


# Verifying every chain reads the table in steps of at most this many items, and at most this
# many steps per request: a page may hold fewer chains than asked for, and still a cursor.
SCAN_STEP = 1000
SCAN_STEPS_PER_REQUEST = 10


def verify_all(limit: int, cursor: str | None = None) -> dict[str, Any]:
    """Verify up to ``limit`` chains, in the table's order; resume at the cursor."""
    chains: list[audit.Verification] = []
    next_cursor = cursor
    for _ in range(SCAN_STEPS_PER_REQUEST):
        try:
            page = outbox.heads_page(
                examined=SCAN_STEP, limit=limit - len(chains), cursor=next_cursor
            )
        except InvalidCursorError:
            raise invalid_cursor() from None
        chains += [verify_entity(head["aggregate_id"]) for head in page.items]
        next_cursor = page.cursor
        if not next_cursor or len(chains) >= limit:
            break
    return {
        "checked": len(chains),
        "valid": all(chain.valid for chain in chains),
        "chains": [chain.to_wire() for chain in chains],
        "next_cursor": next_cursor,
    }
