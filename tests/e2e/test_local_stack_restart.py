"""`make run` stopped and started again: the state survives, at once, on the same ports."""

from __future__ import annotations

import http.client
import signal
import time
import urllib.parse
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.conftest import PARTNER_KEY, LocalStack, moto_client
from tests.e2e.test_local_stack import (
    CONFIRM_TIMEOUT_SECONDS,
    get_order,
    order_body,
    post_order,
    wait_for_status,
)

pytestmark = pytest.mark.e2e


@pytest.fixture
def stack(tmp_path: Path) -> Iterator[LocalStack]:
    """A stack of its own, with its own state folder; stopped (or killed) at the end."""
    stack = LocalStack(tmp_path)
    try:
        yield stack
    finally:
        stack.kill()


def restart(stack: LocalStack, *, fresh: bool = False) -> None:
    """Ctrl-C, then start again at once on the same ports.

    A client keeps a connection open to each port across the stop (as boto3's pool and a
    browser do): the stack closes them first, which leaves them in TIME_WAIT on its ports.
    """
    held = [
        open_connection(stack.ready["moto_url"], "/moto-api/data.json"),
        open_connection(stack.ready["api_url"], "/health"),
    ]
    code = stack.stop(signal.SIGINT)
    assert code == 0, stack.logs()
    try:
        stack.start(fresh=fresh).wait_ready()
    finally:
        for connection in held:
            connection.close()


def open_connection(url: str, path: str) -> http.client.HTTPConnection:
    """An HTTP/1.1 connection that has made one request and stays open."""
    parsed = urllib.parse.urlsplit(url)
    connection = http.client.HTTPConnection(parsed.hostname or "", parsed.port, timeout=60)
    connection.request("GET", path)
    connection.getresponse().read()
    return connection


def archived_events(stack: LocalStack) -> int:
    """How many events reached the bus (its archive keeps every one): what the pump published."""
    [archive] = moto_client(stack, "events").list_archives()["Archives"]
    return int(archive["EventCount"])


def retained_stream_records(stack: LocalStack) -> int:
    """The records the table's stream still holds, read from its trim horizon."""
    streams = moto_client(stack, "dynamodbstreams")
    [stream] = streams.list_streams()["Streams"]
    arn = stream["StreamArn"]
    [shard] = streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"]
    iterator = streams.get_shard_iterator(
        StreamArn=arn, ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON"
    )["ShardIterator"]
    return len(streams.get_records(ShardIterator=iterator, Limit=1000)["Records"])


def eventually(check: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + CONFIRM_TIMEOUT_SECONDS
    while not check():
        if time.monotonic() > deadline:
            pytest.fail(f"not within {CONFIRM_TIMEOUT_SECONDS:.0f} s: {what}")
        time.sleep(0.2)


def history(stack: LocalStack, order_id: str) -> list[Any]:
    answer = stack.request("GET", f"/orders/{order_id}/history", headers={"X-Api-Key": PARTNER_KEY})
    assert answer.status == 200, answer.body
    return [event["type"] for event in answer.json()["events"]]


def test_a_restarted_stack_keeps_its_orders_keys_and_events_and_takes_new_orders(stack):
    # Given: a confirmed order, everything it caused published
    stack.start().wait_ready()
    placed = post_order(stack, order_body())
    assert placed.status == 201, placed.body
    order_id = placed.json()["id"]
    wait_for_status(stack, order_id, "confirmed")
    events = history(stack, order_id)
    eventually(lambda: archived_events(stack) == len(events), "every event of the order published")

    # When: stopped and started again at once, on the same ports
    restart(stack)

    # Then: the order is there as it was, the demo keys work, no old event is published again
    kept = get_order(stack, order_id)
    assert kept.status == 200, kept.body
    assert kept.json()["status"] == "confirmed"
    assert kept.json()["version"] == 2
    assert history(stack, order_id) == events == ["OrderReceived", "OrderConfirmed"]
    time.sleep(2)  # ten pump passes: time enough to publish old events again, if it would
    assert archived_events(stack) == len(events)

    # Then: a new order is taken, and the pump carries it to its confirmation
    again = post_order(stack, order_body(purchase_order="PO-E2E-AFTER-RESTART"))
    assert again.status == 201, again.body
    wait_for_status(stack, again.json()["id"], "confirmed")
    new_events = history(stack, again.json()["id"])
    eventually(
        lambda: archived_events(stack) == len(events) + len(new_events),
        "the new order's events published, once each",
    )
    logs = stack.logs()
    assert "restored the state" in logs
    assert "Traceback" not in logs, logs


def test_fresh_starts_empty(stack):
    # Given: an order placed, then the stack stopped with its state saved
    stack.start().wait_ready()
    placed = post_order(stack, order_body())
    assert placed.status == 201, placed.body

    # When
    restart(stack, fresh=True)

    # Then: the order is gone; the demo data and keys are seeded again
    assert get_order(stack, placed.json()["id"]).status == 404
    assert post_order(stack, order_body()).status == 201


def test_an_order_placed_just_before_the_stop_is_confirmed_after_the_restart(stack):
    # Given: an order whose events the pump may not have carried yet
    stack.start().wait_ready()
    placed = post_order(stack, order_body())
    assert placed.status == 201, placed.body

    # When: stopped at once, then started again
    restart(stack)

    # Then: its events are not lost: the restarted pump confirms it
    wait_for_status(stack, placed.json()["id"], "confirmed")


def test_the_stream_keeps_only_what_the_pump_has_yet_to_read(tmp_path: Path):
    # Given: a stack that keeps no stream record once the pump has read it
    stack = LocalStack(tmp_path, options=("--stream-retention", "0"))
    try:
        stack.start().wait_ready()

        # When: orders are placed and confirmed (their stream records are read by the pump)
        for n in range(5):
            placed = post_order(stack, order_body(purchase_order=f"PO-E2E-TRIM-{n}"))
            assert placed.status == 201, placed.body
            wait_for_status(stack, placed.json()["id"], "confirmed")

        # Then: the stream drops what the pump read (the seed's records too), however many came
        eventually(lambda: retained_stream_records(stack) == 0, "the read records dropped")
        assert stack.stop(signal.SIGINT) == 0, stack.logs()
    finally:
        stack.kill()
