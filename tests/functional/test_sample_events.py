"""The sample payloads in events/ have the shapes the handlers take, and the handlers take them.

Each sample is checked twice: against the model its handler parses it with, and by feeding it to
the handler in a fresh moto world. A change to a model, a route or an item shape that leaves
events/ behind fails here.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from aws_lambda_powertools.utilities.parser.models import (
    APIGatewayProxyEventModel,
    DynamoDBStreamModel,
    EventBridgeModel,
    SqsModel,
)

import app as app_module
from infra.local.pump import LambdaContext
from shared.adapters.bus_events import BusEvent
from shared.domain.order import OrderRequest
from shared.http import problems
from shared.store import customers, table
from shared.store.table import Put, from_dynamo
from tests.functional import fake_resolver
from tests.functional.conftest import PARTNER_KEY

EVENTS = Path(__file__).resolve().parents[2] / "events"


def load(name: str) -> dict[str, Any]:
    return json.loads((EVENTS / name).read_text())


def invoke_api(event: dict[str, Any]) -> dict[str, Any]:
    return app_module.app(event, LambdaContext("api_handler"))


# --- API Gateway ---------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["api/post-order.json", "api/get-order.json"])
def test_api_sample_is_a_rest_proxy_event_for_a_declared_route(name):
    # Given
    event = load(name)

    # When
    parsed = APIGatewayProxyEventModel.model_validate(event)

    # Then
    assert parsed.httpMethod in app_module.app.routes[parsed.resource]
    assert parsed.headers["X-Api-Key"] == PARTNER_KEY
    assert parsed.requestContext.stage == "api"


def test_post_order_sample_places_an_order(world):
    # Given
    event = load("api/post-order.json")
    assert event["headers"]["Idempotency-Key"]
    sent = OrderRequest.model_validate_json(event["body"])

    # When
    response = invoke_api(event)

    # Then
    assert response["statusCode"] == 201, response["body"]
    order = json.loads(response["body"])
    assert order["status"] == "received"
    assert order["customer_id"] == sent.customer_id
    assert [line["sku"] for line in order["lines"]] == [line.sku for line in sent.lines]


def test_get_order_sample_is_authenticated_and_routed(world):
    # Given: a fresh world, where the sample's order does not exist
    event = load("api/get-order.json")

    # When
    response = invoke_api(event)

    # Then: the key was accepted and the path parameter reached the use case
    assert response["statusCode"] == 404, response["body"]
    assert response["headers"]["Content-Type"] == problems.CONTENT_TYPE
    assert event["pathParameters"]["order_id"] in json.loads(response["body"])["detail"]


# --- EventBridge -> SQS ----------------------------------------------------------------------


def test_eventbridge_sample_is_a_bus_event_with_account():
    # Given
    envelope = load("eventbridge/order-received.json")

    # When
    event = BusEvent.model_validate(envelope)

    # Then
    assert event.account == "123456789012"
    assert (event.source, event.detail_type) == ("otc.orders", "OrderReceived")
    assert event.detail.data["id"] == event.detail.metadata.aggregate_id
    assert event.detail.data["status"] == "received"


def test_sqs_sample_is_a_batch_of_bus_events_with_distinct_message_ids():
    # Given
    batch = load("sqs/order-received-batch.json")

    # When
    parsed = SqsModel.model_validate(batch)
    events = [BusEvent.model_validate_json(record["body"]) for record in batch["Records"]]

    # Then
    assert len(parsed.Records) == 2
    assert len({record.messageId for record in parsed.Records}) == 2
    assert len({event.detail.metadata.event_id for event in events}) == 2
    assert all(event.detail_type == "OrderReceived" for event in events)
    assert json.loads(batch["Records"][0]["body"]) == load("eventbridge/order-received.json")


def test_sqs_sample_is_handled_without_failures(world):
    # Given: the orders are unknown here, so the consumer has nothing to confirm
    batch = load("sqs/order-received-batch.json")

    # When
    result = app_module.confirm_orders(batch, LambdaContext("confirm_orders"))

    # Then: every record parsed and was handled
    assert result == {"batchItemFailures": []}


# --- DynamoDB stream ---------------------------------------------------------------------------


def test_stream_sample_inserts_an_event_item_of_the_outbox():
    # Given
    batch = load("dynamodb/outbox-insert.json")

    # When
    DynamoDBStreamModel.model_validate(batch)
    record = batch["Records"][0]
    item = from_dynamo(record["dynamodb"]["NewImage"])

    # Then
    assert record["eventName"] == "INSERT"
    assert item["entity"] == "Event"
    assert from_dynamo(record["dynamodb"]["Keys"]) == {"pk": item["pk"], "sk": item["sk"]}
    assert item["pk"] == f"AGG#{item['aggregate_id']}"
    assert json.loads(item["detail"]) == load("eventbridge/order-received.json")["detail"]


def test_stream_sample_is_published_to_the_consumer_queue(world):
    # Given
    batch = load("dynamodb/outbox-insert.json")

    # When
    result = app_module.publish_events(batch, LambdaContext("publish_events"))

    # Then: EventBridge took it and the rule delivered it to the order-confirmation queue
    assert result == {"batchItemFailures": []}
    assert world.queue_depth("OrderConfirmationQueue") == 1


def test_stream_sample_lands_in_the_lake(world):
    # Given
    batch = load("dynamodb/outbox-insert.json")
    event_id = from_dynamo(batch["Records"][0]["dynamodb"]["NewImage"])["event_id"]

    # When
    result = app_module.land_in_lake(batch, LambdaContext("land_in_lake"))

    # Then: Firehose delivered the event's row to the lake, under the day it occurred
    assert result == {"batchItemFailures": []}
    s3 = world.session.client("s3")
    bucket = world.outputs["LakeBucketName"]
    [listed] = s3.list_objects_v2(Bucket=bucket, Prefix="lake/events/")["Contents"]
    assert listed["Key"].startswith("lake/events/dt=2026-11-23/")
    row = json.loads(s3.get_object(Bucket=bucket, Key=listed["Key"])["Body"].read())
    assert (row["event_id"], row["detail_type"]) == (event_id, "OrderReceived")


# --- Schedules ---------------------------------------------------------------------------------


def test_recovery_sample_points_at_the_stream_sample():
    # Given Lambda's on-failure record of the stream sample's batch, on the recovery queue
    batch = load("sqs/event-recovery-batch.json")
    stream = load("dynamodb/outbox-insert.json")["Records"][0]

    # When it is parsed as its handler reads it
    [record] = SqsModel.model_validate(batch).Records
    info = json.loads(str(record.body))["DDBStreamBatchInfo"]

    # Then it names the stream, the record's sequence number and its arrival
    assert info["streamArn"] == stream["eventSourceARN"]
    sequence = stream["dynamodb"]["SequenceNumber"]
    assert info["startSequenceNumber"] == info["endSequenceNumber"] == sequence
    arrival = datetime.fromtimestamp(stream["dynamodb"]["ApproximateCreationDateTime"], UTC)
    assert info["approximateArrivalOfFirstRecord"] == arrival.strftime("%Y-%m-%dT%H:%M:%SZ")


def test_recovery_sample_is_handled_without_failures(world):
    # Given the sample pointed at this world's stream, where no such shard is (the records are
    # gone, as after the stream's 24 hours) and the table has no event of that time
    batch = load("sqs/event-recovery-batch.json")
    record = batch["Records"][0]
    failure = json.loads(record["body"])
    failure["DDBStreamBatchInfo"]["streamArn"] = world.outputs["TableStreamArn"]
    record["body"] = json.dumps(failure)

    # When
    result = app_module.recover_events(batch, LambdaContext("recover_events"))

    # Then the recovery found nothing to publish, and did not fail
    assert result == {"batchItemFailures": []}


# --- Customer notifications and partner webhooks -------------------------------------------------

WEBHOOK_API_SAMPLES = [
    "api/put-partner-webhook.json",
    "api/get-partner-webhook.json",
    "api/list-webhook-deliveries.json",
    "api/replay-webhook-delivery.json",
    "api/delete-partner-webhook.json",
]


@pytest.mark.parametrize("name", WEBHOOK_API_SAMPLES)
def test_webhook_api_sample_is_a_rest_proxy_event_for_a_declared_route(name):
    parsed = APIGatewayProxyEventModel.model_validate(load(name))
    assert parsed.httpMethod in app_module.app.routes[parsed.resource]
    assert parsed.headers["X-Api-Key"] == PARTNER_KEY
    assert parsed.requestContext.stage == "api"
    assert (parsed.pathParameters or {})["partner_id"] == "prt_demo"


def test_webhook_api_samples_register_read_list_replay_and_remove(world, monkeypatch):
    # Given the sample webhook's host resolves to a public address
    fake_resolver.install(monkeypatch, "hooks.acme.example")

    # When the samples run in order, in a fresh world
    answers = {name: invoke_api(load(name)) for name in WEBHOOK_API_SAMPLES}

    # Then each reached its use case as the partner itself
    registered = json.loads(answers["api/put-partner-webhook.json"]["body"])
    assert registered["secret"].startswith("whsec_")
    assert registered["events"] == ["OrderConfirmed", "OrderShipped"]
    read = json.loads(answers["api/get-partner-webhook.json"]["body"])
    assert read["url"] == registered["url"] and "secret" not in read
    listed = json.loads(answers["api/list-webhook-deliveries.json"]["body"])
    assert listed == {"deliveries": [], "next_cursor": None}
    replay = answers["api/replay-webhook-delivery.json"]
    assert replay["statusCode"] == 404, replay["body"]  # nothing was delivered in this world
    assert answers["api/delete-partner-webhook.json"]["statusCode"] == 204


def test_order_shipped_sample_follows_the_event_contract():
    event = BusEvent.model_validate(load("eventbridge/order-shipped.json"))
    assert (event.source, event.detail_type) == ("otc.orders", "OrderShipped")
    data = event.detail.data
    assert data["id"] == event.detail.metadata.aggregate_id
    assert data["placed_by"] == "prt_demo"
    assert {line["line_no"] for line in data["shipment"]["lines"]} <= {
        line["line_no"] for line in data["lines"]
    }


@pytest.mark.parametrize(
    "name", ["sqs/customer-notifications-batch.json", "sqs/partner-webhooks-batch.json"]
)
def test_consumer_samples_are_batches_of_order_events_with_distinct_message_ids(name):
    batch = load(name)
    parsed = SqsModel.model_validate(batch)
    events = [BusEvent.model_validate_json(record["body"]) for record in batch["Records"]]
    assert len({record.messageId for record in parsed.Records}) == len(parsed.Records) == 2
    assert [event.detail_type for event in events] == ["OrderConfirmed", "OrderShipped"]
    assert json.loads(batch["Records"][1]["body"]) == load("eventbridge/order-shipped.json")


def test_customer_notifications_sample_emails_the_customer(world):
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.ses.models import ses_backends

    # Given the seeded customer asked for its order notices by e-mail (the sample's orders were
    # placed by the demo partner, whose customers hear of them through it by default)
    acme = customers.get("cus_acme")
    assert acme is not None
    table.transact([Put(customers.to_item(acme.model_copy(update={"order_notices": "email"})))])

    # When
    batch = load("sqs/customer-notifications-batch.json")
    result = app_module.notify_customers(batch, LambdaContext("notify_customers"))

    # Then: the seeded customer got both e-mails
    assert result == {"batchItemFailures": []}
    sent = ses_backends[DEFAULT_ACCOUNT_ID]["us-east-1"].sent_messages
    assert sorted(message.subject for message in sent) == [
        "Order PO-4711 confirmed",
        "Order PO-4711 shipped",
    ]


def test_partner_webhooks_sample_is_handled_without_failures(world):
    # Given: no webhook is registered here, so there is nothing to deliver
    batch = load("sqs/partner-webhooks-batch.json")

    # When
    result = app_module.deliver_webhooks(batch, LambdaContext("deliver_webhooks"))

    # Then
    assert result == {"batchItemFailures": []}


# --- Collections ---------------------------------------------------------------------------------


def test_collection_schedule_sample_is_the_envelope_scheduler_sends_and_runs(world):
    # Given the run's scheduled event (the Input of the packaged schedule, filled in)
    event = load("schedule/run-collections.json")
    assert EventBridgeModel.model_validate(event).detail_type == "Scheduled Event"

    # When
    result = app_module.run_collections(event, LambdaContext("run_collections"))

    # Then: the run collects for the event's day; a fresh world has nothing due
    assert result["as_of"] == "2027-01-06"
    assert (result["customers"], result["invoices"]) == (0, 0)


def test_report_schedule_sample_is_the_envelope_scheduler_sends_and_runs(world):
    # Given the nightly snapshot's scheduled event
    event = load("schedule/run-reports.json")
    assert EventBridgeModel.model_validate(event).detail_type == "Scheduled Event"

    # When
    result = app_module.run_reports(event, LambdaContext("run_reports"))

    # Then it snapshots the UTC day that ended before 01:30 (tests/functional/test_report_snapshot)
    assert result["day"] == "2026-11-30"
    assert result["latest"] == {"aging": True, "kpis": True, "positions": True}


def test_collection_reminders_sample_is_a_batch_of_customers_with_distinct_message_ids():
    from functions.dunning.remind_customer import ReminderMessage

    # Given
    batch = load("sqs/collection-reminders-batch.json")

    # When
    parsed = SqsModel.model_validate(batch)
    messages = [ReminderMessage.model_validate_json(record["body"]) for record in batch["Records"]]

    # Then: one message per customer of one run, each with its own id
    assert len({record.messageId for record in parsed.Records}) == len(parsed.Records) == 2
    assert [message.customer_id for message in messages] == ["cus_acme", "cus_globex"]
    assert len({(message.run_id, message.as_of) for message in messages}) == 1


def test_collection_reminders_sample_is_handled_without_failures(world):
    # Given: the invoices are unknown here, so no customer has anything to be reminded of
    batch = load("sqs/collection-reminders-batch.json")

    # When
    result = app_module.remind_customers(batch, LambdaContext("remind_customers"))

    # Then: every record parsed and was handled
    assert result == {"batchItemFailures": []}
