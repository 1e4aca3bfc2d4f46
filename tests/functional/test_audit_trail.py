"""The audit trail end to end: who did what, hash-chained per entity, and checked on request."""

from __future__ import annotations

import base64
import threading
from typing import Any

import pytest

from functions.audit.trail import verify_entity
from shared.domain.audit import ChainHead
from shared.domain.events import DomainEvent
from shared.store import outbox, table
from shared.store.outbox import StaleStateError
from tests.functional.accounts import call, new_staff
from tests.functional.conftest import PARTNER_KEY, World, order_body, post_order
from tests.functional.payment_intake import payment_intent, post_stripe, stripe_event


@pytest.fixture
def auditor(client) -> str:
    return new_staff(client, "auditor")[1]


def _shipped_order(client, world: World) -> str:
    """An order placed by the partner, confirmed by the worker, and shipped whole."""
    placed = post_order(client, order_body())
    assert placed.status_code == 201, placed.body
    order_id = placed.json_body["id"]
    world.pump.drain()
    order = call(client, "GET", f"/orders/{order_id}").body
    lines = [{"line_no": line["line_no"], "quantity": line["quantity"]} for line in order["lines"]]
    shipment = {"carrier": "DHL", "tracking_number": "JD0001", "lines": lines}
    shipped = call(client, "POST", f"/orders/{order_id}/shipments", body=shipment)
    assert shipped.status == 201, shipped.body
    world.pump.drain()
    return str(order_id)


def _seq(head: ChainHead | None) -> int:
    assert head is not None
    return head.seq


def _event_items(world: World, entity: str) -> list[dict[str, Any]]:
    found = [i for i in world.table_items() if i.get("entity") == "Event"]
    return sorted((i for i in found if i["aggregate_id"] == entity), key=lambda i: i["seq"])


def test_a_shipped_orders_trail_lists_who_did_what_and_its_chain_verifies(client, world, auditor):
    # Given
    order_id = _shipped_order(client, world)

    # When
    trail = call(client, "GET", f"/audit?entity={order_id}", key=auditor)
    check = call(client, "GET", f"/audit/verify?entity={order_id}", key=auditor)

    # Then the events are listed oldest first, each with its actor, time and change
    assert trail.status == 200, trail.body
    changes = [(e["seq"], e["change"]["type"], e["actor"]) for e in trail.body["events"]]
    assert changes == [
        (1, "OrderReceived", "prt_demo"),
        (2, "OrderConfirmed", "system:confirm_orders"),
        (3, "OrderShipped", "stf_admin"),
    ]
    first = trail.body["events"][0]
    assert first["entity"] == order_id and first["time"].startswith("20")
    assert first["change"]["data"]["id"] == order_id
    assert first["prev_hash"] == "0" * 64 and trail.body["events"][1]["prev_hash"] == first["hash"]
    assert trail.body["next_cursor"] is None
    # and the chain verifies
    assert check.status == 200
    assert check.body == {
        "entity": order_id,
        "events": 3,
        "valid": True,
        "broken_at": None,
        "unchained": 0,
    }


def test_the_trail_pages_and_bounds_by_time(client, world, auditor):
    # Given
    order_id = _shipped_order(client, world)
    times = [i["occurred_at"] for i in _event_items(world, order_id)]

    # When
    first = call(client, "GET", f"/audit?entity={order_id}&limit=2", key=auditor).body
    rest = call(
        client,
        "GET",
        f"/audit?entity={order_id}&limit=2&cursor={first['next_cursor']}",
        key=auditor,
    ).body
    bounded = call(
        client, "GET", f"/audit?entity={order_id}&from={times[1]}&to={times[1]}", key=auditor
    ).body

    # Then
    assert [e["seq"] for e in first["events"]] == [1, 2]
    assert [e["seq"] for e in rest["events"]] == [3] and rest["next_cursor"] is None
    assert [e["seq"] for e in bounded["events"]] == [2]
    bad = call(client, "GET", f"/audit?entity={order_id}&cursor=nonsense", key=auditor)
    assert bad.status == 400


def test_a_changed_event_is_reported_at_its_seq(client, world, auditor):
    # Given one stored event's detail changed behind the API's back
    order_id = _shipped_order(client, world)
    confirmed = _event_items(world, order_id)[1]
    tampered = confirmed["detail"].replace('"status":"confirmed"', '"status":"cancelled"')
    assert tampered != confirmed["detail"]
    world.session.client("dynamodb").update_item(
        TableName=world.outputs["TableName"],
        Key={"pk": {"S": confirmed["pk"]}, "sk": {"S": confirmed["sk"]}},
        UpdateExpression="SET detail = :detail",
        ExpressionAttributeValues={":detail": {"S": tampered}},
    )

    # When
    check = call(client, "GET", f"/audit/verify?entity={order_id}", key=auditor)

    # Then
    assert check.body["valid"] is False
    assert check.body["broken_at"] == {
        "seq": 2,
        "event_id": confirmed["event_id"],
        "reason": "changed",
    }


def test_a_deleted_event_is_reported_missing(client, world, auditor):
    # Given the middle event deleted
    order_id = _shipped_order(client, world)
    _received, confirmed, shipped = _event_items(world, order_id)
    world.session.client("dynamodb").delete_item(
        TableName=world.outputs["TableName"],
        Key={"pk": {"S": confirmed["pk"]}, "sk": {"S": confirmed["sk"]}},
    )

    # When
    check = call(client, "GET", f"/audit/verify?entity={order_id}", key=auditor)

    # Then the gap is at seq 2, just before the shipment
    assert check.body["valid"] is False
    assert check.body["broken_at"] == {
        "seq": 2,
        "event_id": shipped["event_id"],
        "reason": "missing",
    }


def test_a_deleted_last_event_is_reported_missing_against_the_head(client, world, auditor):
    # Given
    order_id = _shipped_order(client, world)
    *_, shipped = _event_items(world, order_id)
    table.delete_many([(shipped["pk"], shipped["sk"])])

    # When
    check = call(client, "GET", f"/audit/verify?entity={order_id}", key=auditor)

    # Then
    assert check.body["broken_at"] == {"seq": 3, "event_id": None, "reason": "missing"}


def test_verifying_every_chain_pages_through_the_heads(client, world, auditor):
    # Given two orders, one of them tampered with
    good, bad = _shipped_order(client, world), _shipped_order(client, world)
    table.delete_many([(i["pk"], i["sk"]) for i in _event_items(world, bad)[:1]])

    # When
    everything: list[dict[str, Any]] = []
    cursor = ""
    for _ in range(20):
        page = call(client, "GET", f"/audit/verify?limit=2{cursor}", key=auditor).body
        everything += page["chains"]
        if not page["next_cursor"]:
            break
        cursor = f"&cursor={page['next_cursor']}"

    # Then every chain was checked once, and only the tampered one is broken
    entities = [chain["entity"] for chain in everything]
    assert len(entities) == len(set(entities))
    assert {good, bad} <= set(entities)
    assert [c["entity"] for c in everything if not c["valid"]] == [bad]


@pytest.mark.parametrize(
    "cursor",
    [
        "nonsense",
        base64.urlsafe_b64encode(b'{"pk": "AGG#x"}').decode(),  # not a key of the table
        base64.urlsafe_b64encode(b'{"pk": "a", "sk": "b", "gsi2pk": "c"}').decode(),
        base64.urlsafe_b64encode(b'["pk", "sk"]').decode(),
    ],
)
def test_verifying_every_chain_refuses_a_cursor_it_did_not_hand_out(client, world, auditor, cursor):
    # When every chain is verified from a cursor that is not one of the route's
    answer = call(client, "GET", f"/audit/verify?limit=2&cursor={cursor}", key=auditor)

    # Then it is a client error naming the cursor, not a server error
    assert answer.status == 400, answer.body
    assert answer.body["type"].endswith("/invalid-query")
    assert "cursor" in str(answer.body)


def test_only_auditors_and_admins_read_the_audit_trail(client, world, auditor):
    # Given
    order_id = _shipped_order(client, world)

    # When / Then
    for path in (f"/audit?entity={order_id}", f"/audit/verify?entity={order_id}"):
        assert call(client, "GET", path, key=auditor).status == 200
        assert call(client, "GET", path).status == 200  # admin
        assert call(client, "GET", path, key=PARTNER_KEY).status == 403
        assert call(client, "GET", path, key=None).status == 401
    assert call(client, "GET", "/audit", key=auditor).status == 400  # which entity?


def test_concurrent_commits_on_one_aggregate_keep_one_unbroken_chain(
    world, serializable_transactions
):
    # Given eight writers, each committing five events of the same aggregate
    def write(writer: int) -> None:
        for n in range(5):
            event = DomainEvent(
                detail_type="Noted",
                source="otc.test",
                aggregate_id="agg_race",
                data={"w": writer, "n": n},
            )
            while True:  # as every caller does: a commit that keeps losing raises, try again
                try:
                    outbox.commit([], [event])
                    break
                except StaleStateError:
                    gave_up.append(writer)

    gave_up: list[int] = []
    threads = [threading.Thread(target=write, args=(w,)) for w in range(8)]

    # When
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    # Then every event is in the chain once, numbered 1..40, and it verifies
    items = _event_items(world, "agg_race")
    assert [int(i["seq"]) for i in items] == list(range(1, 41))
    result = verify_entity("agg_race")
    assert result.valid and result.events == 40
    assert outbox.head("agg_race") == ChainHead(seq=40, hash=items[-1]["hash"])
    assert len(gave_up) <= 20  # most lost races were settled inside commit (about 2 seen of 40)


def test_a_commit_that_lost_only_the_head_race_retries_and_a_stale_state_still_raises(
    world, monkeypatch
):
    # Given an aggregate with one event, and a head read that is stale the first time
    first = DomainEvent(detail_type="Noted", source="otc.test", aggregate_id="agg_1", data={})
    outbox.commit([], [first])
    real, reads = outbox.read_heads, []

    def stale_once(aggregate_ids):
        reads.append(aggregate_ids)
        return {} if len(reads) == 1 else real(aggregate_ids)

    monkeypatch.setattr(outbox, "read_heads", stale_once)

    # When
    second = DomainEvent(detail_type="Noted", source="otc.test", aggregate_id="agg_1", data={})
    outbox.commit([], [second])

    # Then it chained after the first on the second try
    assert len(reads) == 2
    assert [int(i["seq"]) for i in _event_items(world, "agg_1")] == [1, 2]

    # and a failed state guard is not retried: it raises as before, writing nothing
    guard = table.Put(item={"pk": "X#1", "sk": "X", "version": 1}, condition="attribute_exists(pk)")
    third = DomainEvent(detail_type="Noted", source="otc.test", aggregate_id="agg_1", data={})
    with pytest.raises(StaleStateError) as raised:
        outbox.commit([guard], [third])
    assert raised.value.failed == (0,)
    assert len(reads) == 3
    assert _seq(outbox.head("agg_1")) == 2


def test_several_events_of_one_aggregate_in_one_commit_chain_in_order(world):
    # Given
    events = [
        DomainEvent(detail_type="Noted", source="otc.test", aggregate_id=agg, data={"n": n})
        for n, agg in enumerate(["agg_a", "agg_b", "agg_a", "agg_a"])
    ]

    # When
    outbox.commit([], events)

    # Then
    chain_a = _event_items(world, "agg_a")
    assert [(int(i["seq"]), i["event_id"]) for i in chain_a] == [
        (1, events[0].event_id),
        (2, events[2].event_id),
        (3, events[3].event_id),
    ]
    assert _seq(outbox.head("agg_a")) == 3 and _seq(outbox.head("agg_b")) == 1


def test_a_gateway_acts_as_itself_workers_as_their_function_and_nobody_stays_acting(client, world):
    # Given
    body = stripe_event("payment_intent.succeeded", payment_intent())

    # When
    assert post_stripe(client, body).status_code == 200
    world.pump.drain()

    # Then the receipt names the gateway, the payment the worker that recorded it
    actors = {
        (item["detail_type"], item["actor"])
        for item in world.table_items()
        if item.get("entity") == "Event"
    }
    assert ("GatewayEventReceived", "gateway:stripe") in actors
    assert ("PaymentReceived", "system:record_gateway_events") in actors
    # and once the invocations are over, no one is acting any more
    after = DomainEvent(detail_type="Noted", source="otc.test", aggregate_id="x", data={})
    assert after.actor == "system"
