"""The audit trail's hash chain: each aggregate's events link to the one before, in ``seq`` order.

An event's ``hash`` is SHA-256 over a canonical JSON of what it says (aggregate, seq, id, type,
source, time, actor, detail) and the ``prev_hash`` of the event before it (``GENESIS`` for the
first). Changing a stored event breaks its own hash; deleting one leaves a gap in ``seq``; moving
one leaves it linked to an event that is no longer its predecessor. The chain head (last seq and
hash, written in the same transaction as the events) also catches a deleted last event.

Pure: no storage. ``Link`` fields are the event item's attributes of the same names.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

GENESIS = "0" * 64

HASHED_FIELDS = (
    "aggregate_id",
    "seq",
    "event_id",
    "detail_type",
    "source",
    "occurred_at",
    "actor",
    "detail",
    "prev_hash",
)


class BreakReason(StrEnum):
    CHANGED = "changed"  # the event's content no longer matches its hash
    MISSING = "missing"  # a gap in seq: an event was deleted
    REORDERED = "reordered"  # an intact event linked to another predecessor, or a seq used twice


@dataclass(frozen=True)
class ChainHead:
    """The last link of an aggregate's chain: what the next event links to."""

    seq: int = 0
    hash: str = GENESIS


@dataclass(frozen=True)
class Link:
    seq: int
    prev_hash: str
    hash: str


@dataclass(frozen=True)
class Break:
    seq: int
    event_id: str | None  # the event found at (or, for a gap, right after) the break
    reason: BreakReason

    def to_wire(self) -> dict[str, Any]:
        return {"seq": self.seq, "event_id": self.event_id, "reason": self.reason.value}


@dataclass(frozen=True)
class Verification:
    entity: str
    events: int
    broken_at: Break | None
    unchained: int = 0  # events written before the chain existed: listed, not verified

    @property
    def valid(self) -> bool:
        return self.broken_at is None

    def to_wire(self) -> dict[str, Any]:
        return {
            "entity": self.entity,
            "events": self.events,
            "valid": self.valid,
            "broken_at": self.broken_at.to_wire() if self.broken_at else None,
            "unchained": self.unchained,
        }


def canonical(fields: Mapping[str, Any]) -> bytes:
    """The bytes that are hashed: the hashed fields as sorted, compact, ASCII-only JSON.

    ``detail`` is hashed as the JSON value it holds (the stored form is a JSON string), so the
    hash does not depend on how the string was spaced.
    """
    detail = fields["detail"]
    values = {name: fields[name] for name in HASHED_FIELDS if name != "detail"}
    values["seq"] = int(values["seq"])
    values["detail"] = json.loads(detail) if isinstance(detail, str) else detail
    return json.dumps(values, sort_keys=True, separators=(",", ":"), ensure_ascii=True).encode()


def digest(fields: Mapping[str, Any]) -> str:
    return hashlib.sha256(canonical(fields)).hexdigest()


def link(head: ChainHead, events: Iterable[Mapping[str, Any]]) -> list[Link]:
    """Chain ``events`` (in order, all of one aggregate) after ``head``.

    Each mapping holds the hashed fields except ``seq`` and ``prev_hash``, which this assigns.
    """
    links: list[Link] = []
    seq, prev_hash = head.seq, head.hash
    for event in events:
        seq += 1
        fields = {**event, "seq": seq, "prev_hash": prev_hash}
        links.append(Link(seq=seq, prev_hash=prev_hash, hash=digest(fields)))
        prev_hash = links[-1].hash
    return links


def head_after(head: ChainHead, links: Sequence[Link]) -> ChainHead:
    return ChainHead(seq=links[-1].seq, hash=links[-1].hash) if links else head


def verify(
    entity: str, items: Iterable[Mapping[str, Any]], head: ChainHead | None = None
) -> Verification:
    """Walk one aggregate's chain in seq order and report the first broken link.

    ``items`` may come in any order (stored order is by time, and two writers' events can
    interleave in time and in seq differently). Items without a ``hash`` predate the chain and
    are counted as ``unchained``. ``head`` (the stored chain head) catches a deleted last event.
    """
    everything = list(items)
    chained = sorted((i for i in everything if i.get("hash")), key=lambda i: int(i["seq"]))
    unchained = len(everything) - len(chained)
    broken = _first_break(chained, head)
    return Verification(entity, len(chained), broken, unchained)


def _first_break(chained: Sequence[Mapping[str, Any]], head: ChainHead | None) -> Break | None:
    expected, prev_hash = 1, GENESIS
    for item in chained:
        if broken := _broken_link(item, expected, prev_hash):
            return broken
        expected, prev_hash = expected + 1, item["hash"]
    if head is None:
        return None
    return _broken_head(head, expected - 1, prev_hash, chained[-1]["event_id"] if chained else None)


def _broken_link(item: Mapping[str, Any], expected: int, prev_hash: str) -> Break | None:
    seq = int(item["seq"])
    if seq < expected:
        return Break(seq, item["event_id"], BreakReason.REORDERED)
    if seq > expected:
        return Break(expected, item["event_id"], BreakReason.MISSING)
    if digest(item) != item["hash"]:
        return Break(seq, item["event_id"], BreakReason.CHANGED)
    if item["prev_hash"] != prev_hash:
        return Break(seq, item["event_id"], BreakReason.REORDERED)
    return None


def _broken_head(head: ChainHead, last: int, last_hash: str, last_id: str | None) -> Break | None:
    """The stored head against the walked chain: events after ``last`` were deleted."""
    if head.seq > last:
        return Break(last + 1, None, BreakReason.MISSING)
    if head.seq < last:  # events past the head: inserted, or the head was rolled back
        return Break(head.seq + 1, None, BreakReason.CHANGED)
    if last and head.hash != last_hash:
        return Break(last, last_id, BreakReason.CHANGED)
    return None
