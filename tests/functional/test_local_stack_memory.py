"""What keeps the local stack's memory flat, counted on the deployed table (not timed).

The local stack runs moto with lean transactions (a transaction backs up the items it names, not
the table), a bounded set of shard iterators, and its stream trimmed behind the pump. Counted
here: the bytes one order allocates do not grow with the table, the stream holds no more than
what the pump has yet to read, and the iterators stay few however often the pump polls.
"""

from __future__ import annotations

import threading
import tracemalloc
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest

from infra.local.moto_streams import (
    SHARD_ITERATORS_KEPT,
    bounded_shard_iterators,
    trim_read_records,
)
from infra.local.moto_transactions import lean_transactions
from tests.functional.conftest import World, order_body, post_order

FILLER_ITEMS = 2000


@pytest.fixture
def lean_moto(world: World) -> Iterator[World]:
    """The world with the local stack's moto layer."""
    with lean_transactions(), bounded_shard_iterators():
        yield world


def stream_shard(world: World) -> Any:
    from moto.dynamodb.models import dynamodb_backends

    [backend] = [region for account in dynamodb_backends.values() for region in account.values()]
    return backend.tables[world.outputs["TableName"]].stream_shard


def streams_backend() -> Any:
    from moto.dynamodbstreams.models import dynamodbstreams_backends

    [backend] = [
        region for account in dynamodbstreams_backends.values() for region in account.values()
    ]
    return backend


def place_and_confirm(world: World, client: Any, purchase_order: str) -> str:
    placed = post_order(client, order_body(purchase_order=purchase_order))
    assert placed.status_code == 201, placed.body
    world.pump.drain()
    return str(placed.json_body["id"])


def order_status(client: Any, order_id: str) -> str:
    from tests.functional.conftest import PARTNER_KEY

    answer = client.http.get(f"/orders/{order_id}", headers={"X-Api-Key": PARTNER_KEY})
    assert answer.status_code == 200, answer.body
    return str(answer.json_body["status"])


def fill_table(world: World, count: int) -> None:
    """Items of no business meaning in the deployed table: only its size matters here."""
    table = world.session.resource("dynamodb").Table(world.outputs["TableName"])
    with table.batch_writer() as batch:
        for n in range(count):
            batch.put_item(
                Item={"pk": f"FILLER#{n}", "sk": "FILLER", "entity": "Filler", "text": "x" * 200}
            )
    world.pump.drain()


def bytes_allocated_by_one_order(world: World, client: Any, purchase_order: str) -> int:
    tracemalloc.start()
    try:
        post_order(client, order_body(purchase_order=purchase_order))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    world.pump.drain()
    return peak


def test_one_order_allocates_as_much_with_a_large_table_as_with_a_small_one(lean_moto, client):
    # Given: the memory one order takes on the seeded table (after a first one warms caches)
    place_and_confirm(lean_moto, client, "PO-WARM")
    small = bytes_allocated_by_one_order(lean_moto, client, "PO-SMALL")

    # When: the table holds thousands of items more
    fill_table(lean_moto, FILLER_ITEMS)
    large = bytes_allocated_by_one_order(lean_moto, client, "PO-LARGE")

    # Then: the order's transactions back up what they touch, not the table
    # (a copy of the table would take several MB here: over 1 KB per item)
    assert large < small + 512 * 1024, (small, large)


def test_the_stream_keeps_only_what_the_pump_has_not_read(lean_moto, client):
    # Given: orders placed and confirmed, the stream trimmed behind the pump (no retention)
    lock = threading.RLock()
    table_name = lean_moto.outputs["TableName"]
    retained = []
    for n in range(6):
        order_id = place_and_confirm(lean_moto, client, f"PO-TRIM-{n}")
        trim_read_records(table_name, lean_moto.pump.stream_positions, timedelta(0), lock)
        retained.append(len(stream_shard(lean_moto).items))

    # Then: nothing the pump has read is kept, however many orders came before
    assert retained == [0] * 6

    # When: one more order after all that trimming
    last = place_and_confirm(lean_moto, client, "PO-TRIM-LAST")

    # Then: the pump still reads the stream where it left off: the order is confirmed
    assert order_status(client, order_id) == "confirmed"
    assert order_status(client, last) == "confirmed"


def test_records_the_pump_has_read_are_kept_for_the_retention_window(lean_moto, client):
    # Given: a confirmed order
    place_and_confirm(lean_moto, client, "PO-KEPT")
    written = len(stream_shard(lean_moto).items)

    # When: trimmed with a retention the records are younger than
    trim_read_records(
        lean_moto.outputs["TableName"],
        lean_moto.pump.stream_positions,
        timedelta(minutes=15),
        threading.RLock(),
    )

    # Then: all kept
    assert written > 0
    assert len(stream_shard(lean_moto).items) == written


def test_shard_iterators_stay_few_however_often_the_pump_polls(lean_moto):
    # When: the pump polls the quiet stream many times (an iterator and a read each time)
    for _ in range(SHARD_ITERATORS_KEPT * 3):
        lean_moto.pump.pump_stream()

    # Then: only the most recent iterators are kept
    assert len(streams_backend().shard_iterators) <= SHARD_ITERATORS_KEPT
