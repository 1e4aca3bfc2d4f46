"""The audit trail's hash chain: linking, and finding the first broken link."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from shared import actor
from shared.domain import audit
from shared.domain.audit import BreakReason, ChainHead
from shared.domain.events import DomainEvent


def _event(n: int, **overrides: Any) -> dict[str, Any]:
    return {
        "aggregate_id": "ord_1",
        "event_id": f"evt_{n:03d}",
        "detail_type": "OrderAmended",
        "source": "otc.orders",
        "occurred_at": f"2026-01-01T00:00:{n:02d}.000Z",
        "actor": "stf_admin",
        "detail": json.dumps({"data": {"n": n}}),
        **overrides,
    }


def _chain(count: int, head: ChainHead | None = None) -> list[dict[str, Any]]:
    events = [_event(n) for n in range(1, count + 1)]
    links = audit.link(head or ChainHead(), events)
    return [
        {**event, "seq": li.seq, "prev_hash": li.prev_hash, "hash": li.hash}
        for event, li in zip(events, links, strict=True)
    ]


def _head(items: list[dict[str, Any]]) -> ChainHead:
    return ChainHead(seq=items[-1]["seq"], hash=items[-1]["hash"])


def test_links_number_from_one_and_each_points_at_the_one_before():
    # When
    items = _chain(3)

    # Then
    assert [i["seq"] for i in items] == [1, 2, 3]
    assert items[0]["prev_hash"] == audit.GENESIS
    assert items[1]["prev_hash"] == items[0]["hash"]
    assert items[2]["prev_hash"] == items[1]["hash"]
    assert len({i["hash"] for i in items}) == 3


def test_linking_after_a_head_continues_its_numbering_and_hash():
    # Given
    first = _chain(2)

    # When
    (link,) = audit.link(_head(first), [_event(3)])

    # Then
    assert (link.seq, link.prev_hash) == (3, first[-1]["hash"])


def test_the_hash_covers_every_field_and_ignores_detail_spacing():
    # Given
    fields = {**_event(1), "seq": 1, "prev_hash": audit.GENESIS}
    base = audit.digest(fields)

    # Then every hashed field changes the hash
    for name in audit.HASHED_FIELDS:
        changed = {**fields, name: 2 if name == "seq" else '{"x":1}' if name == "detail" else "x"}
        assert audit.digest(changed) != base, name
    # and the stored detail's spacing does not
    spaced = {**fields, "detail": json.dumps({"data": {"n": 1}}, indent=2)}
    assert audit.digest(spaced) == base


def test_an_intact_chain_verifies_in_any_order_it_is_read():
    # Given
    items = _chain(4)

    # When
    result = audit.verify("ord_1", list(reversed(items)), _head(items))

    # Then
    assert result.valid and result.events == 4
    assert result.to_wire() == {
        "entity": "ord_1",
        "events": 4,
        "valid": True,
        "broken_at": None,
        "unchained": 0,
    }


def test_a_changed_detail_breaks_the_chain_at_that_event():
    # Given
    items = _chain(4)
    items[2] = {**items[2], "detail": json.dumps({"data": {"n": 999}})}

    # When
    result = audit.verify("ord_1", items, _head(items))

    # Then
    assert not result.valid
    assert result.to_wire()["broken_at"] == {
        "seq": 3,
        "event_id": "evt_003",
        "reason": "changed",
    }


def test_a_changed_actor_is_a_change_too():
    items = _chain(2)
    items[0] = {**items[0], "actor": "someone_else"}
    assert audit.verify("ord_1", items).broken_at == audit.Break(1, "evt_001", BreakReason.CHANGED)


def test_a_deleted_event_is_a_gap_reported_missing():
    # Given
    items = _chain(4)
    del items[1]

    # When
    result = audit.verify("ord_1", items, _head(items))

    # Then the gap is at seq 2; the event after it is named
    assert result.broken_at == audit.Break(2, "evt_003", BreakReason.MISSING)


def test_a_deleted_last_event_is_caught_by_the_head():
    # Given
    items = _chain(3)
    head = _head(items)

    # When
    result = audit.verify("ord_1", items[:-1], head)

    # Then
    assert result.broken_at == audit.Break(3, None, BreakReason.MISSING)


def test_an_intact_event_moved_to_another_place_is_reordered():
    # Given events 2 and 3 swapped: each re-hashed at its new seq, still linked as before
    items = _chain(3)
    second, third = items[1], items[2]
    moved = []
    for event, seq in ((third, 2), (second, 3)):
        fields = {**event, "seq": seq}
        moved.append({**fields, "hash": audit.digest(fields)})

    # When
    result = audit.verify("ord_1", [items[0], *moved])

    # Then
    assert result.broken_at == audit.Break(2, "evt_003", BreakReason.REORDERED)


def test_a_seq_used_twice_is_reordered():
    items = _chain(2)
    forked = audit.link(ChainHead(seq=1, hash=items[0]["hash"]), [_event(9)])[0]
    fork = {**_event(9), "seq": forked.seq, "prev_hash": forked.prev_hash, "hash": forked.hash}
    result = audit.verify("ord_1", [*items, fork])
    assert result.broken_at is not None and result.broken_at.reason is BreakReason.REORDERED


def test_events_from_before_the_chain_are_counted_not_verified():
    items = _chain(2)
    legacy = _event(0)
    result = audit.verify("ord_1", [legacy, *items], _head(items))
    assert result.valid and (result.events, result.unchained) == (2, 1)


def test_an_empty_chain_with_no_head_is_valid():
    assert audit.verify("nothing", [], None).valid


def test_a_domain_event_records_whoever_is_acting():
    # Given
    with actor.acting_as("stf_clerk"):
        # When
        inside = DomainEvent(detail_type="X", source="s", aggregate_id="a", data={})

    # Then
    outside = DomainEvent(detail_type="X", source="s", aggregate_id="a", data={})
    assert inside.actor == "stf_clerk"
    assert outside.actor == "system"
    assert actor.system("confirm_orders") == "system:confirm_orders"


@given(
    count=st.integers(min_value=1, max_value=12),
    data=st.data(),
)
def test_any_single_tampering_is_found_at_the_tampered_seq(count: int, data: st.DataObject):
    # Given a chain and one event either changed or deleted
    items = _chain(count)
    head = _head(items)
    index = data.draw(st.integers(min_value=0, max_value=count - 1))
    deleted = data.draw(st.booleans())
    if deleted:
        del items[index]
    else:
        items[index] = {**items[index], "detail": json.dumps({"data": {"n": "tampered"}})}

    # When
    result = audit.verify("ord_1", items, head)

    # Then
    assert result.broken_at is not None
    assert result.broken_at.seq == index + 1
    assert result.broken_at.reason is (BreakReason.MISSING if deleted else BreakReason.CHANGED)


@given(st.lists(st.integers(min_value=0, max_value=3), min_size=1, max_size=10))
def test_chaining_in_several_commits_equals_chaining_at_once(cuts: list[int]):
    # Given the same events linked at once, or a few at a time after each head
    events = [_event(n) for n in range(1, sum(cuts) + 2)]
    at_once = audit.link(ChainHead(), events)
    head, in_parts, start = ChainHead(), [], 0
    for size in [*cuts, len(events)]:
        part = audit.link(head, events[start : start + size])
        in_parts += part
        head, start = audit.head_after(head, part), start + size

    # Then
    assert in_parts == at_once
