"""The asynchronous side: stream -> publisher -> bus -> rule -> queue -> consumer, and recovery.

Every trigger kind is exercised with the event shapes Lambda delivers: SQS batches with distinct
message ids, EventBridge envelopes, DynamoDB stream batches and scheduled events.
"""

from __future__ import annotations

import json
import uuid
from datetime import timedelta
from typing import Any

import pytest

from tests.functional.conftest import PARTNER_KEY, World, order_body, post_order


def _place(client) -> dict[str, Any]:
    response = post_order(client, order_body())
    assert response.status_code == 201
    return json.loads(response.body)


def _status(client, order_id: str) -> str:
    return json.loads(
        client.http.get(f"/orders/{order_id}", headers={"X-Api-Key": PARTNER_KEY}).body
    )["status"]


def _events(world: World, detail_type: str) -> list[dict[str, Any]]:
    return [
        i
        for i in world.table_items()
        if i.get("entity") == "Event" and i["detail_type"] == detail_type
    ]


def _order_received_envelope(world: World, order_id: str) -> dict[str, Any]:
    event = _events(world, "OrderReceived")[0]
    assert event["aggregate_id"] == order_id
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": "OrderReceived",
        "source": "otc.orders",
        "account": "123456789012",
        "time": "2026-11-23T10:00:00Z",
        "region": "us-east-1",
        "resources": [],
        "detail": json.loads(event["detail"]),
    }


def _sqs_event(bodies: list[str]) -> dict[str, Any]:
    """An SQS batch as Lambda delivers it: every record has its own message id."""
    return {
        "Records": [
            {
                "messageId": str(uuid.uuid4()),
                "receiptHandle": f"handle-{n}",
                "body": body,
                "attributes": {"ApproximateReceiveCount": "1"},
                "messageAttributes": {},
                "md5OfBody": "0",
                "eventSource": "aws:sqs",
                "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:otc-local-order-confirmation",
                "awsRegion": "us-east-1",
            }
            for n, body in enumerate(bodies)
        ]
    }


def _stream_event(world: World) -> dict[str, Any]:
    """The table's stream as Lambda delivers it, read from moto's real stream."""
    streams = world.session.client("dynamodbstreams")
    arn = world.outputs["TableStreamArn"]
    records = []
    for shard in streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"]:
        iterator = streams.get_shard_iterator(
            StreamArn=arn, ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON"
        )
        for record in streams.get_records(ShardIterator=iterator["ShardIterator"])["Records"]:
            dynamodb = {
                k: v for k, v in record["dynamodb"].items() if k != "ApproximateCreationDateTime"
            }
            records.append({**record, "dynamodb": dynamodb, "eventSourceARN": arn})
    return {"Records": records}


# --- SQS ------------------------------------------------------------------------------------


def test_an_sqs_batch_reports_only_the_poison_message_as_failed(world, client):
    # Given a batch of one good OrderReceived and one message that is not an event
    order = _place(client)
    good = json.dumps(_order_received_envelope(world, order["id"]))
    event = _sqs_event([good, "not an event"])
    # When the consumer handles it
    result = client.lambda_.invoke("confirm_orders", event).payload
    # Then only the poison message is reported back, and the good one took effect
    assert result == {"batchItemFailures": [{"itemIdentifier": event["Records"][1]["messageId"]}]}
    assert _status(client, order["id"]) == "confirmed"


def test_a_redelivered_event_changes_nothing_the_second_time(world, client):
    # Given an OrderReceived delivered twice in one batch and once more later
    order = _place(client)
    body = json.dumps(_order_received_envelope(world, order["id"]))
    first = client.lambda_.invoke("confirm_orders", _sqs_event([body, body])).payload
    again = client.lambda_.invoke("confirm_orders", _sqs_event([body])).payload
    # Then the order was confirmed exactly once
    assert first == again == {"batchItemFailures": []}
    assert _status(client, order["id"]) == "confirmed"
    assert len(_events(world, "OrderConfirmed")) == 1


def test_an_event_for_an_order_that_moved_on_is_a_no_op(world, client):
    order = _place(client)
    world.pump.drain()
    body = json.dumps(_order_received_envelope(world, order["id"]))
    result = client.lambda_.invoke("confirm_orders", _sqs_event([body])).payload
    assert result == {"batchItemFailures": []}
    assert len(_events(world, "OrderConfirmed")) == 1


def test_a_consumer_idempotent_on_event_id_even_when_state_is_reset(world, client):
    """The consumed marker, not only the status guard, makes the consumer idempotent."""
    from shared.domain.order import OrderStatus
    from shared.store import orders, table
    from shared.store.table import Put

    order = _place(client)
    body = json.dumps(_order_received_envelope(world, order["id"]))
    client.lambda_.invoke("confirm_orders", _sqs_event([body]))
    confirmed = orders.get(order["id"])
    assert confirmed is not None
    reopened = confirmed.model_copy(
        update={"status": OrderStatus.RECEIVED, "version": confirmed.version + 1}
    )
    table.transact([Put.replacing(orders.to_item(reopened), confirmed.version)])
    client.lambda_.invoke("confirm_orders", _sqs_event([body]))
    assert _status(client, order["id"]) == "received"
    assert len(_events(world, "OrderConfirmed")) == 1


# --- EventBridge ------------------------------------------------------------------------------


def test_the_bus_routes_order_received_to_the_confirmation_queue_only(world, client):
    # Given an OrderReceived and an unrelated event put on our bus
    order = _place(client)
    events = world.session.client("events")
    envelope = _order_received_envelope(world, order["id"])
    for detail_type in ("OrderReceived", "OrderConfirmed"):
        events.put_events(
            Entries=[
                {
                    "Source": "otc.orders",
                    "DetailType": detail_type,
                    "Detail": json.dumps(envelope["detail"]),
                    "EventBusName": world.outputs["EventBusName"],
                }
            ]
        )
    # Then only the OrderReceived reached the consumer's queue
    assert world.queue_depth("OrderConfirmationQueue") == 1
    # and the consumer, fed from that queue, confirms the order
    world.pump.pump_queue(world.pump._consumers[0])
    assert _status(client, order["id"]) == "confirmed"


# --- DynamoDB stream (the outbox publisher) --------------------------------------------------


def test_the_publisher_puts_new_event_items_on_the_bus(world, client):
    # Given a received order: its state, its event and its chain head, and nothing else
    before = world.table_items()
    _place(client)
    placed = world.table_items()
    assert sorted(i["entity"] for i in placed if i not in before) == ["AuditHead", "Event", "Order"]
    # When the publisher gets the stream batch (which also holds the order's insert)
    result = client.lambda_.invoke("publish_events", _stream_event(world)).payload
    # Then the event is on the bus (routed to the queue), and the table is as it was
    assert result == {"batchItemFailures": []}
    assert world.queue_depth("OrderConfirmationQueue") == 1
    assert world.table_items() == placed


def test_events_the_bus_rejects_are_retried(world, client, monkeypatch):
    from shared.adapters import aws

    _place(client)
    stream_event = _stream_event(world)
    real_put = aws.client("events").put_events

    def rejecting(**kwargs):
        return {
            "FailedEntryCount": 1,
            "Entries": [{"ErrorCode": "ThrottlingException"} for _ in kwargs["Entries"]],
        }

    monkeypatch.setattr(aws.client("events"), "put_events", rejecting)
    result = client.lambda_.invoke("publish_events", stream_event).payload
    [event_record] = _event_records(stream_event)
    assert result == {
        "batchItemFailures": [{"itemIdentifier": event_record["dynamodb"]["SequenceNumber"]}]
    }
    assert world.queue_depth("OrderConfirmationQueue") == 0
    monkeypatch.setattr(aws.client("events"), "put_events", real_put)
    assert client.lambda_.invoke("publish_events", stream_event).payload == {
        "batchItemFailures": []
    }
    assert world.queue_depth("OrderConfirmationQueue") == 1


def test_a_crash_between_state_write_and_publish_loses_no_event(world, client, monkeypatch):
    # Given the publisher crashes on its first attempts (after the state was committed)
    from shared.adapters import event_bus

    real_put_events = event_bus.put_events
    attempts = {"n": 0}

    def crashing(entries):
        attempts["n"] += 1
        if attempts["n"] <= 2:
            raise ConnectionError("Lambda died mid-publish")
        return real_put_events(entries)

    monkeypatch.setattr(event_bus, "put_events", crashing)
    order = _place(client)
    # When the stream keeps delivering the batch as Lambda does
    world.pump.drain()
    # Then the event got through on a retry and the order is confirmed
    assert attempts["n"] >= 3
    assert _status(client, order["id"]) == "confirmed"


def _event_records(stream_event: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        r for r in stream_event["Records"] if r["dynamodb"]["NewImage"]["entity"]["S"] == "Event"
    ]


def _bus_down(monkeypatch) -> None:
    from shared.adapters import event_bus

    def down(entries):
        raise ConnectionError("bus unavailable")

    monkeypatch.setattr(event_bus, "put_events", down)


def _give_up_on_the_stream_batch(world: World) -> dict[str, Any]:
    """Let the publisher fail on the stream until Lambda gives the batch up; return the message
    its on-failure destination (the recovery queue) then holds."""
    for _ in range(world.pump.STREAM_MAX_RETRIES + 1):
        world.pump.pump_stream()
    sqs = world.session.client("sqs")
    answer = sqs.receive_message(QueueUrl=world.queues["EventRecoveryQueue"], VisibilityTimeout=0)
    [message] = answer["Messages"]
    return json.loads(message["Body"])


def test_a_stream_batch_the_publisher_gave_up_on_is_published_by_the_recovery(
    world, client, monkeypatch
):
    # Given a bus that is down for longer than the stream retries last
    order = _place(client)
    with monkeypatch.context() as outage:
        _bus_down(outage)
        failure = _give_up_on_the_stream_batch(world)
        # Then the batch's place in the stream went to the recovery queue, as Lambda sends it
        batch = failure["DDBStreamBatchInfo"]
        assert failure["requestContext"]["condition"] == "RetryAttemptsExhausted"
        assert batch["streamArn"] == world.outputs["TableStreamArn"]
        assert int(batch["startSequenceNumber"]) <= int(batch["endSequenceNumber"])
        # and the recovery fails while the bus is still down (the message comes back later)
        retried = client.lambda_.invoke("recover_events", _sqs_event([json.dumps(failure)]))
        assert len(retried.payload["batchItemFailures"]) == 1
    # When the bus is back and the recovery queue is read
    world.pump.drain()
    # Then the event was read from the stream again and published: nothing was lost
    assert world.queue_depth("EventRecoveryQueue") == 0
    assert world.queue_depth("EventRecoveryDeadLetterQueue") == 0
    assert _status(client, order["id"]) == "confirmed"
    assert len(_events(world, "OrderConfirmed")) == 1


def test_a_batch_older_than_the_stream_is_found_in_the_table(world, client, monkeypatch):
    import threading

    from functions.outbox.recover_events import recover
    from infra.local.moto_streams import trim_read_records

    # Given a batch the publisher gave up on, whose records the stream no longer holds (it keeps
    # them 24 hours)
    order = _place(client)
    with monkeypatch.context() as outage:
        _bus_down(outage)
        batch = _give_up_on_the_stream_batch(world)["DDBStreamBatchInfo"]
    world.session.client("sqs").purge_queue(QueueUrl=world.queues["EventRecoveryQueue"])
    read: dict[str, tuple[str, str] | None] = {
        batch["shardId"]: ("AFTER_SEQUENCE_NUMBER", batch["endSequenceNumber"])
    }
    table_name = world.outputs["TableName"]
    assert trim_read_records(table_name, read, timedelta(0), threading.RLock()) > 0
    # When the recovery runs
    recovered = recover(batch)
    # Then it found the batch's event among the items written in its time window, and published it
    assert (recovered.found, recovered.published, recovered.from_stream) == (1, 1, False)
    world.pump.drain()
    assert _status(client, order["id"]) == "confirmed"


def test_an_event_published_twice_is_applied_once(world, client):
    """A batch published, then recovered as well (its success went unrecorded)."""
    from functions.outbox.recover_events import recover

    order = _place(client)
    [record] = _event_records(_stream_event(world))
    sequence = record["dynamodb"]["SequenceNumber"]
    world.pump.drain()
    streams = world.session.client("dynamodbstreams")
    arn = world.outputs["TableStreamArn"]
    [shard] = streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"]
    recovered = recover(
        {
            "shardId": shard["ShardId"],
            "startSequenceNumber": sequence,
            "endSequenceNumber": sequence,
            "streamArn": arn,
        }
    )
    assert (recovered.found, recovered.from_stream) == (1, True)
    world.pump.drain()  # the consumer gets the same event again
    assert _status(client, order["id"]) == "confirmed"
    assert len(_events(world, "OrderConfirmed")) == 1


@pytest.mark.parametrize("count", [25])
def test_many_orders_all_get_confirmed(world, client, count):
    ids = [_place(client)["id"] for _ in range(count)]
    world.pump.drain()
    assert {_status(client, order_id) for order_id in ids} == {"confirmed"}


def test_a_poison_message_ends_in_the_consumers_dlq_after_its_retries(world, client):
    # Given a message on the consumer queue that can never be processed
    world.session.client("sqs").send_message(
        QueueUrl=world.queues["OrderConfirmationQueue"], MessageBody="{}"
    )
    # When the pump keeps delivering it
    world.pump.drain()
    # Then after maxReceiveCount attempts it sits in the DLQ, and the queue is empty
    assert world.queue_depth("OrderConfirmationQueue") == 0
    assert world.queue_depth("OrderConfirmationDeadLetterQueue") == 1
