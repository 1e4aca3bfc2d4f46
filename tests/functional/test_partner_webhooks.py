"""Partner webhooks: registration over the API, and order events POSTed, signed, to a real server.

The receiver is a real HTTP server on 127.0.0.1 (port 0); events travel the real path: bus ->
rule -> partner-webhooks queue -> the pump -> deliver_webhooks -> urllib3 -> the receiver. Host
names resolve through a fake resolver (``resolver``): .example names answer what a test says.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import socket
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import yaml
from jsonschema import Draft202012Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from functions.webhooks.deliver import MAX_RECEIVES
from shared.adapters import aws
from shared.config import settings
from shared.domain import webhooks
from shared.http import problems
from shared.http.auth import Principal, Role, key_item
from shared.store import table
from shared.store.table import Put
from tests.functional import fake_resolver
from tests.functional.conftest import ADMIN_KEY, PARTNER_KEY
from tests.functional.fake_resolver import PUBLIC_ADDRESS, FakeResolver
from tests.functional.order_events import detail, envelope, put_on_bus, sqs_batch

PARTNER = "prt_demo"  # the seeded partner, PARTNER_KEY's principal
SPEC = yaml.safe_load((Path(__file__).resolve().parents[2] / "openapi.yaml").read_text())
OTHER_PARTNER_KEY = "otc_test_other_partner_key_0123456789"
AUDITOR_KEY = "otc_test_auditor_key_0123456789abcdef"


# --- a real endpoint ------------------------------------------------------------------------------


@dataclass
class Received:
    path: str
    raw_headers: dict[str, str]
    body: bytes

    @property
    def headers(self) -> dict[str, str]:
        """Case-insensitive, as HTTP headers are (a client may send ``Otc-event-id``)."""
        return _Headers(self.raw_headers)


class _Headers(dict[str, str]):
    def __init__(self, raw: dict[str, str]) -> None:
        super().__init__({name.lower(): value for name, value in raw.items()})

    def __getitem__(self, name: str) -> str:
        return super().__getitem__(name.lower())


@dataclass
class Receiver:
    """An HTTP server on loopback that records every POST and answers from a script."""

    url: str
    requests: list[Received] = field(default_factory=list)
    answers: list[int] = field(default_factory=list)  # popped per request; then 200

    def next_status(self) -> int:
        return self.answers.pop(0) if self.answers else 200


class _Handler(BaseHTTPRequestHandler):
    receiver: Receiver

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        self.receiver.requests.append(Received(self.path, dict(self.headers.items()), body))
        status = self.receiver.next_status()
        self.send_response(status)
        if 300 <= status < 400:
            self.send_header("Location", "/elsewhere")
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        pass


@contextmanager
def _receiving() -> Iterator[Receiver]:
    class Handler(_Handler):  # one class per receiver: the receiver is a class attribute
        pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    Handler.receiver = Receiver(url=f"http://127.0.0.1:{server.server_address[1]}/hooks/otc")
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield Handler.receiver
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with _receiving() as receiving:
        yield receiving


@pytest.fixture
def other_receiver() -> Iterator[Receiver]:
    with _receiving() as receiving:
        yield receiving


@pytest.fixture(autouse=True)
def resolver(monkeypatch: pytest.MonkeyPatch) -> FakeResolver:
    """Names under .example resolve to a public address unless a test says otherwise."""
    return fake_resolver.install(monkeypatch, "hooks.acme.example", "other.example", "evil.example")


@pytest.fixture
def as_on_aws(world, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The deployed setting: loopback is no partner's address."""
    monkeypatch.setenv("WEBHOOK_ALLOW_LOOPBACK", "0")
    settings.cache_clear()
    yield
    settings.cache_clear()


def _dead_url() -> str:
    """A loopback port nobody listens on: connections are refused at once."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}/hooks"


# --- API helpers ----------------------------------------------------------------------------------


def _headers(key: str | None, **extra: str) -> dict[str, str]:
    return {"Content-Type": "application/json", **({"X-Api-Key": key} if key else {}), **extra}


def _put(client, body: Any, *, partner: str = PARTNER, key: str = PARTNER_KEY) -> Any:
    return client.http.put(
        f"/partners/{partner}/webhook", headers=_headers(key), body=json.dumps(body)
    )


def _register(client, url: str, events: list[str] | None = None) -> str:
    body: dict[str, Any] = {"url": url} | ({"events": events} if events is not None else {})
    response = _put(client, body)
    assert response.status_code == 200, response.body
    secret: str = json.loads(response.body)["secret"]
    return secret


def _deliveries(client, query: str = "", *, key: str = PARTNER_KEY) -> Any:
    return client.http.get(f"/partners/{PARTNER}/webhook/deliveries{query}", headers=_headers(key))


def _replay(client, delivery_id: str, *, key: str = PARTNER_KEY, idem: str | None = None) -> Any:
    headers = _headers(key, **{"Idempotency-Key": idem or str(uuid.uuid4())})
    return client.http.post(
        f"/partners/{PARTNER}/webhook/deliveries/{delivery_id}/replay", headers=headers, body=""
    )


def _seed_key(raw_key: str, principal: Principal) -> None:
    table.transact([Put.new(key_item(raw_key, principal))])


def _verifies(secret: str, request: Received) -> bool:
    return webhooks.verify(
        secret, request.headers[webhooks.SIGNATURE_HEADER], request.body, now=int(time.time())
    )


def _conforms(instance: Any, schema: str) -> None:
    """Validate an answer against a schema of openapi.yaml (JSON Schema 2020-12 in OAS 3.1)."""
    spec = Resource.from_contents(SPEC, default_specification=DRAFT202012)
    registry: Registry[Any] = Registry().with_resource("urn:otc:openapi", spec)
    reference = {"$ref": f"urn:otc:openapi#/components/schemas/{schema}"}
    Draft202012Validator(reference, registry=registry).validate(instance)


def _only_delivery(client) -> dict[str, Any]:
    [delivery] = json.loads(_deliveries(client).body)["deliveries"]
    return dict(delivery)


# --- registration ---------------------------------------------------------------------------------


def test_a_partner_registers_its_webhook_and_sees_the_secret_once(world, client) -> None:
    # When the partner registers its endpoint
    response = _put(client, {"url": "https://hooks.acme.example/otc"})

    # Then the answer holds the signing secret, not to be cached, and every order event
    assert response.status_code == 200, response.body
    assert response.headers["Cache-Control"] == "no-store"
    registered = json.loads(response.body)
    secret = registered.pop("secret")
    assert secret.startswith("whsec_") and len(secret) > 40
    assert registered["url"] == "https://hooks.acme.example/otc"
    assert registered["events"] == list(webhooks.ORDER_EVENT_TYPES)
    assert registered["partner_id"] == PARTNER

    # And no later answer shows it again
    read = client.http.get(f"/partners/{PARTNER}/webhook", headers=_headers(PARTNER_KEY))
    assert read.status_code == 200
    assert json.loads(read.body) == registered
    assert secret not in read.body.decode()
    assert secret not in _deliveries(client).body.decode()

    # And registering again replaces the endpoint with a new secret
    again = json.loads(_put(client, {"url": "https://hooks.acme.example/v2"}).body)
    assert again["secret"] != secret
    assert again["created_at"] == registered["created_at"]


def test_a_partner_may_subscribe_to_some_order_events(world, client) -> None:
    response = _put(
        client, {"url": "https://hooks.acme.example/otc", "events": ["OrderShipped", "OrderHeld"]}
    )
    assert response.status_code == 200
    assert json.loads(response.body)["events"] == ["OrderHeld", "OrderShipped"]


@pytest.mark.parametrize(
    ("body", "pointer"),
    [
        ({"url": "ftp://hooks.acme.example/otc"}, "#/url"),
        ({"url": "http://hooks.acme.example/otc"}, "#/url"),  # http only on loopback
        ({"url": "https://10.0.0.7/otc"}, "#/url"),  # private address
        ({"url": "https://169.254.169.254/latest"}, "#/url"),  # link-local (metadata)
        ({"url": "https://user:pw@hooks.acme.example/otc"}, "#/url"),
        ({"url": "not a url"}, "#/url"),
        ({"url": "https://hooks.acme.example/otc", "events": ["OrderInvoiced"]}, "#/events"),
        ({"url": "https://hooks.acme.example/otc", "events": []}, "#/events"),
        ({"url": "https://hooks.acme.example/otc", "secret": "mine"}, "#/secret"),
        ({"events": ["OrderShipped"]}, "#/url"),
    ],
)
def test_registration_refuses_bad_urls_and_unknown_events(world, client, body, pointer) -> None:
    response = _put(client, body)
    assert response.status_code == 422, response.body
    assert response.headers["Content-Type"] == problems.CONTENT_TYPE
    assert pointer in [error["pointer"] for error in json.loads(response.body)["errors"]]
    assert (
        client.http.get(f"/partners/{PARTNER}/webhook", headers=_headers(PARTNER_KEY)).status_code
        == 404
    )


def test_loopback_urls_are_refused_on_aws(world, client, monkeypatch) -> None:
    # Given the API running in a Lambda (where 127.0.0.1 is the runtime's own API)
    monkeypatch.setenv("AWS_LAMBDA_FUNCTION_NAME", "otc-dev-APIHandler")

    # Then
    assert _put(client, {"url": "http://127.0.0.1:9001/2018-06-01/runtime"}).status_code == 422


def test_a_partner_cannot_touch_another_partners_webhook(world, client) -> None:
    # Given an admin registered a webhook for another partner
    assert (
        _put(
            client, {"url": "https://other.example/h"}, partner="prt_other", key=ADMIN_KEY
        ).status_code
        == 200
    )
    base = "/partners/prt_other/webhook"
    partner = _headers(PARTNER_KEY, **{"Idempotency-Key": "k-1"})

    # When the demo partner tries to read, change, remove, list or replay it: as if it did not exist
    answers = [
        client.http.get(base, headers=partner),
        client.http.put(base, headers=partner, body=json.dumps({"url": "https://evil.example/"})),
        client.http.delete(base, headers=partner),
        client.http.get(f"{base}/deliveries", headers=partner),
        client.http.post(f"{base}/deliveries/dlv_X/replay", headers=partner, body=""),
    ]

    # Then
    assert [answer.status_code for answer in answers] == [404] * 5
    assert all(a.headers["Content-Type"] == problems.CONTENT_TYPE for a in answers)
    kept = client.http.get(base, headers=_headers(ADMIN_KEY))
    assert json.loads(kept.body)["url"] == "https://other.example/h"


def test_staff_who_may_not_manage_access_are_forbidden(world, client) -> None:
    _seed_key(AUDITOR_KEY, Principal(principal_id="stf_auditor", role=Role.AUDITOR))
    response = client.http.get(f"/partners/{PARTNER}/webhook", headers=_headers(AUDITOR_KEY))
    assert response.status_code == 403
    assert (
        client.http.get(f"/partners/{PARTNER}/webhook", headers=_headers(None)).status_code == 401
    )


def test_an_admin_manages_any_partners_webhook_and_delete_stops_deliveries(
    world, client, receiver
) -> None:
    # Given an admin registered the demo partner's webhook
    assert _put(client, {"url": receiver.url}, key=ADMIN_KEY).status_code == 200
    assert (
        client.http.get(f"/partners/{PARTNER}/webhook", headers=_headers(PARTNER_KEY)).status_code
        == 200
    )

    # When the admin removes it
    removed = client.http.delete(f"/partners/{PARTNER}/webhook", headers=_headers(ADMIN_KEY))

    # Then it is gone, and events no longer reach the endpoint
    assert removed.status_code == 204
    assert (
        client.http.get(f"/partners/{PARTNER}/webhook", headers=_headers(ADMIN_KEY)).status_code
        == 404
    )
    assert (
        client.http.delete(f"/partners/{PARTNER}/webhook", headers=_headers(ADMIN_KEY)).status_code
        == 404
    )
    put_on_bus(world, "OrderConfirmed", detail("OrderConfirmed"))
    world.pump.drain()
    assert receiver.requests == []


# --- delivery -----------------------------------------------------------------------------------


def test_an_order_event_is_posted_signed_to_the_placing_partner(world, client, receiver) -> None:
    # Given the partner's webhook
    secret = _register(client, receiver.url)
    event = detail("OrderConfirmed")

    # When an order it placed is confirmed
    put_on_bus(world, "OrderConfirmed", event)
    world.pump.drain()

    # Then its endpoint got the event, once
    [request] = receiver.requests
    assert request.path == "/hooks/otc"
    assert request.headers["Content-Type"] == "application/json"
    assert request.headers[webhooks.EVENT_ID_HEADER] == event["metadata"]["event_id"]
    assert json.loads(request.body) == {
        "id": event["metadata"]["event_id"],
        "type": "OrderConfirmed",
        "created": event["metadata"]["occurred_at"],
        "data": event["data"],
    }
    # signed as documented: HMAC-SHA256 of "<t>.<body>" under the secret, and only that secret
    header = request.headers[webhooks.SIGNATURE_HEADER]
    timestamp, signature = (part.split("=", 1)[1] for part in header.split(","))
    expected = hmac.new(secret.encode(), f"{timestamp}.".encode() + request.body, hashlib.sha256)
    assert hmac.compare_digest(signature, expected.hexdigest())
    assert abs(int(timestamp) - time.time()) < 60
    assert _verifies(secret, request)
    assert not _verifies(webhooks.new_secret(), request)
    assert not _verifies(secret, Received(request.path, request.raw_headers, request.body + b" "))
    # and the delivery is on record
    delivery = _only_delivery(client)
    assert delivery["event_id"] == event["metadata"]["event_id"]
    assert (delivery["status"], delivery["attempts"], delivery["last_status_code"]) == (
        "delivered",
        1,
        200,
    )
    assert delivery["delivered_at"] and delivery["next_attempt"] is None


def test_answers_and_deliveries_match_openapi_yaml(world, client, receiver) -> None:
    # Given a registered webhook and a delivered event
    registered = json.loads(_put(client, {"url": receiver.url}).body)
    read = json.loads(
        client.http.get(f"/partners/{PARTNER}/webhook", headers=_headers(PARTNER_KEY)).body
    )
    put_on_bus(world, "OrderShipped", detail("OrderShipped"))
    world.pump.drain()
    page = json.loads(_deliveries(client).body)
    replayed = json.loads(_replay(client, page["deliveries"][0]["id"]).body)

    # Then each answer, and what the endpoint received, is what the spec documents
    _conforms(registered, "WebhookWithSecret")
    _conforms(read, "Webhook")
    _conforms(page, "WebhookDeliveryPage")
    _conforms(replayed, "WebhookDelivery")
    _conforms(json.loads(receiver.requests[0].body), "WebhookEvent")
    with pytest.raises(Exception, match="secret"):
        _conforms(read, "WebhookWithSecret")


def test_the_reason_an_order_is_held_stays_inside(world, client, receiver) -> None:
    _register(client, receiver.url)
    put_on_bus(world, "OrderHeld", detail("OrderHeld", reason="credit limit exceeded"))
    world.pump.drain()
    [request] = receiver.requests
    data = json.loads(request.body)["data"]
    assert data["status"] == "on_hold"
    assert "reason" not in data


def test_cancellations_carry_their_reason(world, client, receiver) -> None:
    _register(client, receiver.url)
    put_on_bus(world, "OrderCancelled", detail("OrderCancelled", reason="customer changed plans"))
    world.pump.drain()
    [request] = receiver.requests
    assert json.loads(request.body)["data"]["reason"] == "customer changed plans"


def test_only_the_placing_partner_gets_only_the_events_it_subscribed_to(
    world, client, receiver
) -> None:
    # Given the demo partner subscribed to shipments only
    _register(client, receiver.url, events=["OrderShipped"])

    # When a confirmation of its order, a shipment of a staff-placed order, a shipment of another
    # partner's order and a shipment of its own order are published
    mine = detail("OrderShipped")
    put_on_bus(world, "OrderConfirmed", detail("OrderConfirmed"))
    put_on_bus(world, "OrderShipped", detail("OrderShipped", placed_by="stf_admin"))
    put_on_bus(world, "OrderShipped", detail("OrderShipped", placed_by="prt_other"))
    put_on_bus(world, "OrderShipped", mine)
    world.pump.drain()

    # Then only its own shipment reached it
    [request] = receiver.requests
    assert request.headers[webhooks.EVENT_ID_HEADER] == mine["metadata"]["event_id"]
    assert json.loads(request.body)["data"]["shipment"] == mine["data"]["shipment"]
    assert len(json.loads(_deliveries(client).body)["deliveries"]) == 1


def test_every_order_event_type_reaches_the_webhook_queue(world) -> None:
    for detail_type in webhooks.ORDER_EVENT_TYPES:
        put_on_bus(world, detail_type, detail(detail_type))
    assert world.queue_depth("PartnerWebhooksQueue") == len(webhooks.ORDER_EVENT_TYPES)


def test_every_money_event_type_reaches_the_webhook_queue_from_any_of_our_sources(world) -> None:
    # Given each money event type, from the sources that emit them today and may tomorrow
    sources = ["otc.invoicing", "otc.payments", "otc.ledger", "otc.credits"]
    for index, detail_type in enumerate(webhooks.MONEY_EVENT_TYPES):
        source = sources[index % len(sources)]
        _put_money_event(world, detail_type, {"customer_id": "cus_acme"}, source=source)
    # and one from outside this system
    _put_money_event(world, "InvoiceIssued", {"customer_id": "cus_acme"}, source="acme.erp")
    # Then each of ours is routed to the webhook queue, the stranger's is not
    assert world.queue_depth("PartnerWebhooksQueue") == len(webhooks.MONEY_EVENT_TYPES)


def test_an_endpoint_answering_500_gets_the_event_on_retry(world, client, receiver) -> None:
    # Given an endpoint that fails once
    secret = _register(client, receiver.url)
    receiver.answers = [500]

    # When an event is delivered, and retried as SQS does
    put_on_bus(world, "OrderShipped", detail("OrderShipped"))
    world.pump.drain()

    # Then the second POST was the same event, signed afresh, and the delivery records both
    first, second = receiver.requests
    assert first.body == second.body
    assert first.headers[webhooks.EVENT_ID_HEADER] == second.headers[webhooks.EVENT_ID_HEADER]
    assert _verifies(secret, second)
    delivery = _only_delivery(client)
    assert (delivery["status"], delivery["attempts"], delivery["last_status_code"]) == (
        "delivered",
        2,
        200,
    )
    assert world.queue_depth("PartnerWebhooksQueue") == 0


def test_a_redirect_is_not_followed_and_counts_as_a_failure(world, client, receiver) -> None:
    _register(client, receiver.url)
    receiver.answers = [302]
    put_on_bus(world, "OrderConfirmed", detail("OrderConfirmed"))
    world.pump.drain()
    assert len(receiver.requests) == 2
    assert _only_delivery(client)["attempts"] == 2


def test_a_duplicate_delivery_of_a_delivered_event_posts_nothing(world, client, receiver) -> None:
    # Given a delivered event
    _register(client, receiver.url)
    body = json.dumps(envelope("OrderConfirmed", detail("OrderConfirmed")))
    first = client.lambda_.invoke("deliver_webhooks", sqs_batch([body, body])).payload

    # When SQS delivers it again
    again = client.lambda_.invoke("deliver_webhooks", sqs_batch([body])).payload

    # Then it was POSTed once
    assert first == again == {"batchItemFailures": []}
    assert len(receiver.requests) == 1
    assert _only_delivery(client)["attempts"] == 1


def test_a_dead_endpoint_ends_in_the_dlq_after_the_retries(world, client) -> None:
    # Given an endpoint that never answers
    _register(client, _dead_url())

    # When the event is retried until SQS gives up (the pump retries at once)
    put_on_bus(world, "OrderConfirmed", detail("OrderConfirmed"))
    world.pump.drain()

    # Then the message sits in the DLQ after maxReceiveCount attempts, all on record
    assert world.queue_depth("PartnerWebhooksQueue") == 0
    assert world.queue_depth("PartnerWebhooksDeadLetterQueue") == 1
    delivery = _only_delivery(client)
    assert (delivery["status"], delivery["attempts"]) == ("failed", 8)
    assert delivery["last_status_code"] is None
    assert "refused" in delivery["last_error"].lower()
    assert delivery["next_attempt"] is None  # no retry is coming


def test_a_failed_attempt_asks_sqs_to_back_off_exponentially(
    world, client, receiver, monkeypatch
) -> None:
    # Given a failing endpoint and a message as Lambda receives it from the real queue
    _register(client, receiver.url)
    receiver.answers = [503, 503]
    put_on_bus(world, "OrderConfirmed", detail("OrderConfirmed"))
    sqs = world.session.client("sqs")
    url = world.queues["PartnerWebhooksQueue"]
    calls: list[dict[str, Any]] = []
    real = aws.client("sqs").change_message_visibility

    def spy(**kwargs: Any) -> Any:
        calls.append(kwargs)
        return real(**kwargs)

    monkeypatch.setattr(aws.client("sqs"), "change_message_visibility", spy)

    # When the consumer fails on it twice
    for expected_delay in (20, 40):
        [message] = sqs.receive_message(QueueUrl=url, AttributeNames=["All"])["Messages"]
        batch = world.pump._sqs_record(
            message, "arn:aws:sqs:us-east-1:123456789012:otc-local-partner-webhooks"
        )
        answer = client.lambda_.invoke("deliver_webhooks", {"Records": [batch]}).payload
        assert answer == {"batchItemFailures": [{"itemIdentifier": message["MessageId"]}]}

        # Then the message is hidden for 2^attempts x 10 s
        assert calls[-1]["VisibilityTimeout"] == expected_delay
        assert calls[-1]["ReceiptHandle"] == message["ReceiptHandle"]
        assert calls[-1]["QueueUrl"].endswith("/123456789012/otc-local-partner-webhooks")
        assert sqs.receive_message(QueueUrl=url).get("Messages", []) == []
        sqs.change_message_visibility(  # fast-forward: the delay has passed
            QueueUrl=url, ReceiptHandle=message["ReceiptHandle"], VisibilityTimeout=0
        )
    delivery = _only_delivery(client)
    assert (delivery["status"], delivery["attempts"], delivery["last_status_code"]) == (
        "failed",
        2,
        503,
    )
    assert delivery["next_attempt"] > delivery["updated_at"]


def test_the_backoff_is_best_effort(world, client, receiver) -> None:
    # Given a record whose receipt handle SQS does not know: the backoff call fails
    _register(client, receiver.url)
    receiver.answers = [500]
    good = json.dumps(envelope("OrderConfirmed", detail("OrderConfirmed", placed_by="stf_admin")))
    failing = json.dumps(envelope("OrderConfirmed", detail("OrderConfirmed")))
    batch = sqs_batch([failing, good])

    # When the consumer fails on one record
    result = client.lambda_.invoke("deliver_webhooks", batch).payload

    # Then that record is still reported for a retry, and the other one completed
    assert result == {"batchItemFailures": [{"itemIdentifier": batch["Records"][0]["messageId"]}]}


# --- replay and listing -------------------------------------------------------------------------


def test_replay_resends_a_delivery_now(world, client, receiver) -> None:
    # Given a delivered event
    secret = _register(client, receiver.url)
    put_on_bus(world, "OrderShipped", detail("OrderShipped"))
    world.pump.drain()
    delivery_id = _only_delivery(client)["id"]

    # When the partner replays it
    replayed = _replay(client, delivery_id, idem="replay-1")

    # Then the same body went out again, freshly signed, and the attempt is on record
    assert replayed.status_code == 200, replayed.body
    assert json.loads(replayed.body)["attempts"] == 2
    first, second = receiver.requests
    assert second.body == first.body and _verifies(secret, second)
    # a retry of the same replay request answers the same, without a third POST
    again = _replay(client, delivery_id, idem="replay-1")
    assert again.status_code == 200 and json.loads(again.body) == json.loads(replayed.body)
    assert len(receiver.requests) == 2
    # an admin may replay too
    assert _replay(client, delivery_id, key=ADMIN_KEY).status_code == 200
    assert len(receiver.requests) == 3


def test_replay_needs_an_idempotency_key_and_a_known_delivery(world, client, receiver) -> None:
    _register(client, receiver.url)
    missing_key = client.http.post(
        f"/partners/{PARTNER}/webhook/deliveries/dlv_X/replay",
        headers=_headers(PARTNER_KEY),
        body="",
    )
    assert missing_key.status_code == 400
    assert _replay(client, "dlv_01KAT3ZPD9Y3H8K1C6P0S4T2ZA").status_code == 404
    assert receiver.requests == []


def test_a_dead_lettered_delivery_is_replayed_once_the_endpoint_is_back(
    world, client, receiver
) -> None:
    # Given a delivery that exhausted its retries against a dead endpoint
    _register(client, _dead_url())
    put_on_bus(world, "OrderAmended", detail("OrderAmended"))
    world.pump.drain()
    delivery_id = _only_delivery(client)["id"]

    # When the partner fixes its endpoint (a new secret comes with it) and replays
    secret = _register(client, receiver.url)
    replayed = json.loads(_replay(client, delivery_id).body)

    # Then it arrived, signed with the new secret
    assert (replayed["status"], replayed["attempts"], replayed["last_error"]) == (
        "delivered",
        9,
        None,
    )
    [request] = receiver.requests
    assert _verifies(secret, request)


def test_replay_without_a_webhook_conflicts(world, client, receiver) -> None:
    _register(client, receiver.url)
    put_on_bus(world, "OrderConfirmed", detail("OrderConfirmed"))
    world.pump.drain()
    delivery_id = _only_delivery(client)["id"]
    client.http.delete(f"/partners/{PARTNER}/webhook", headers=_headers(PARTNER_KEY))
    response = _replay(client, delivery_id)
    assert response.status_code == 409
    assert json.loads(response.body)["type"].endswith("/webhook-not-registered")


def test_deliveries_are_listed_newest_first_a_page_at_a_time(world, client, receiver) -> None:
    # Given three delivered events
    _register(client, receiver.url)
    events = []
    for _ in range(3):
        time.sleep(0.002)  # event ids are ULIDs: time-ordered across milliseconds, not within one
        events.append(detail("OrderReceived"))
    for event in events:
        put_on_bus(world, "OrderReceived", event)
        world.pump.drain()

    # When the partner pages through its deliveries two at a time
    first = json.loads(_deliveries(client, "?limit=2").body)
    second = json.loads(_deliveries(client, f"?limit=2&cursor={first['next_cursor']}").body)

    # Then it sees all three, newest first, and the last page says so
    listed = [d["event_id"] for d in first["deliveries"] + second["deliveries"]]
    assert listed == [e["metadata"]["event_id"] for e in reversed(events)]
    assert second["next_cursor"] is None
    assert {d["status"] for d in first["deliveries"]} == {"delivered"}


@pytest.mark.parametrize(
    "query", ["?limit=0", "?limit=101", "?limit=x", "?cursor=bm9wZQ", "?page=2"]
)
def test_bad_paging_parameters_answer_400(world, client, query) -> None:
    response = _deliveries(client, query)
    assert response.status_code == 400, response.body
    assert response.headers["Content-Type"] == problems.CONTENT_TYPE


# --- addresses a webhook may not reach ------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "https://2130706433/hooks",  # 127.0.0.1 as one decimal number
        "https://0x7f000001/hooks",  # ... in hex
        "https://0x7f.1/hooks",  # ... in hex, two parts
        "https://017700000001/hooks",  # ... in octal
        "https://127.1/hooks",  # ... in two parts
        "https://[::1]/hooks",
        "https://[::ffff:127.0.0.1]/hooks",  # IPv4-mapped loopback
        "https://localhost/hooks",  # a name that resolves to loopback
        "https://10.0.0.1/hooks",
        "https://192.168.1.1/hooks",
        "https://172.16.0.1/hooks",
        "https://100.64.0.1/hooks",  # carrier-grade NAT
        "https://169.254.169.254/latest/meta-data",
        "https://[fd00:ec2::254]/latest/meta-data",
        "https://metadata.google.example/computeMetadata/v1",  # a name resolving to link-local
        "https://split.example/hooks",  # one public and one private address
        "https://nowhere.example/hooks",  # does not resolve
        "http://hooks.acme.example/otc",
        "https://user:pass@hooks.acme.example/otc",
    ],
)
def test_registration_refuses_urls_that_reach_inside_the_network(
    world, client, resolver, as_on_aws, url
) -> None:
    # Given names whose addresses are internal
    resolver.answer("metadata.google.example", "169.254.169.254")
    resolver.answer("split.example", PUBLIC_ADDRESS, "10.1.2.3")

    # When a partner registers the URL
    response = _put(client, {"url": url})

    # Then it is refused, pointing at the URL, and nothing was written
    assert response.status_code == 422, response.body
    assert response.headers["Content-Type"] == problems.CONTENT_TYPE
    problem = json.loads(response.body)
    assert problem["type"] == problems.PROBLEM_BASE + "invalid-webhook-url"
    assert problem["status"] == 422
    assert [error["pointer"] for error in problem["errors"]] == ["#/url"]
    assert world.written() == []


def test_the_local_stack_flag_allows_loopback_and_nothing_more(world, client, resolver) -> None:
    # Given the local stack, where loopback receivers are allowed
    resolver.answer("metadata.google.example", "169.254.169.254")

    # When partners register internal, non-loopback URLs
    answers = [
        _put(client, {"url": url}).status_code
        for url in ("https://metadata.google.example/", "http://10.0.0.1/", "https://[fe80::1]/")
    ]

    # Then they are refused all the same, and nothing was written
    assert answers == [422, 422, 422]
    assert world.written() == []


def test_a_resolver_that_cannot_answer_asks_to_retry_and_writes_nothing(
    world, client, resolver
) -> None:
    # Given a resolver that fails for now
    resolver.unavailable = True

    # When a partner registers its webhook
    response = _put(client, {"url": "https://hooks.acme.example/otc"})

    # Then it is asked to retry later, and nothing was written
    assert response.status_code == 503, response.body
    assert response.headers["Retry-After"] == "5"
    assert json.loads(response.body)["status"] == 503
    assert world.written() == []


def test_a_host_that_turns_private_after_registration_is_not_delivered_to(
    world, client, receiver, resolver, as_on_aws
) -> None:
    # Given a host that resolved to a public address when the partner registered it
    port = receiver.url.split(":")[2].split("/")[0]
    resolver.answer("rebind.example", PUBLIC_ADDRESS)
    _register(client, f"https://rebind.example:{port}/hooks/otc")

    # When it resolves to loopback, where a server listens, as an order event is delivered
    resolver.answer("rebind.example", "127.0.0.1")
    put_on_bus(world, "OrderConfirmed", detail("OrderConfirmed"))
    world.pump.drain()

    # Then nothing was sent there, and the delivery failed, saying why
    assert receiver.requests == []
    delivery = _only_delivery(client)
    assert delivery["status"] == "failed"
    assert delivery["last_status_code"] is None
    assert "refused" in delivery["last_error"]
    assert "loopback" in delivery["last_error"]


def test_delivery_connects_to_the_address_it_vetted_with_the_host_name_kept(
    world, client, receiver, resolver
) -> None:
    # Given a host name only the vetting resolver knows (the system resolver does not)
    port = receiver.url.split(":")[2].split("/")[0]
    resolver.answer("partner.example", "127.0.0.1")
    _register(client, f"http://partner.example:{port}/hooks/otc")
    lookups_at_registration = resolver.lookups.count("partner.example")

    # When an order event is delivered
    put_on_bus(world, "OrderConfirmed", detail("OrderConfirmed"))
    world.pump.drain()

    # Then it reached the vetted address, named by the URL's host, after one more vetting lookup
    [request] = receiver.requests
    assert request.headers["Host"] == f"partner.example:{port}"
    assert resolver.lookups.count("partner.example") == lookups_at_registration + 1
    assert _only_delivery(client)["status"] == "delivered"


def test_a_redirect_is_recorded_as_a_failed_delivery(world, client, receiver) -> None:
    # Given an endpoint that always answers with a redirect elsewhere
    _register(client, receiver.url)
    receiver.answers = [307] * MAX_RECEIVES

    # When an order event is delivered, and retried until the queue gives up
    put_on_bus(world, "OrderConfirmed", detail("OrderConfirmed"))
    world.pump.drain()

    # Then the redirect was never followed, and every attempt is on record as a failure
    assert {request.path for request in receiver.requests} == {"/hooks/otc"}
    delivery = _only_delivery(client)
    assert (delivery["status"], delivery["attempts"]) == ("failed", MAX_RECEIVES)
    assert delivery["last_status_code"] == 307
    assert "redirects are not followed" in delivery["last_error"]


# --- money events ---------------------------------------------------------------------------------

OTHER_PARTNER_BOUND_KEY = "otc_test_bound_partner_key_0123456789ab"


def _put_money_event(
    world, detail_type: str, data: dict[str, Any], *, source: str, event_id: str | None = None
) -> dict[str, Any]:
    """Put a money event on the bus as its emitter's outbox would; returns its detail."""
    event_detail = {
        "metadata": {
            "event_id": event_id or f"evt_{uuid.uuid4().hex[:26].upper()}",
            "aggregate_id": data.get("id", "doc_1"),
            "occurred_at": "2026-11-23T10:15:00.000Z",
        },
        "data": data,
    }
    answer = world.session.client("events").put_events(
        Entries=[
            {
                "Source": source,
                "DetailType": detail_type,
                "Detail": json.dumps(event_detail),
                "EventBusName": world.outputs["EventBusName"],
            }
        ]
    )
    assert answer["FailedEntryCount"] == 0
    return event_detail


def _partner(principal_id: str, key: str, customer_ids: tuple[str, ...]) -> None:
    from infra.local.seed import demo_principal

    demo_principal(
        principal_id, "partner", principal_id, Role.PARTNER, key, customer_ids=customer_ids
    )


def _register_as(client, partner: str, key: str, url: str, events: list[str] | None) -> str:
    body: dict[str, Any] = {"url": url} | ({"events": events} if events is not None else {})
    response = _put(client, body, partner=partner, key=key)
    assert response.status_code == 200, response.body
    secret: str = json.loads(response.body)["secret"]
    return secret


def test_a_partner_subscribed_to_invoice_issued_gets_each_invoice_of_its_customer(
    world, client, receiver, other_receiver
) -> None:
    from tests.functional.invoicing import documents, placed, ship

    # Given the demo partner (bound to cus_acme) subscribed to InvoiceIssued; another partner
    # bound to cus_acme on the default (order events only); a third subscribed to InvoiceIssued
    # but bound to another customer
    secret = _register(client, receiver.url, events=["InvoiceIssued"])
    _partner("prt_bound", OTHER_PARTNER_BOUND_KEY, ("cus_acme",))
    _register_as(client, "prt_bound", OTHER_PARTNER_BOUND_KEY, other_receiver.url, None)
    _partner("prt_other", OTHER_PARTNER_KEY, ("cus_other",))
    _register_as(client, "prt_other", OTHER_PARTNER_KEY, other_receiver.url, ["InvoiceIssued"])

    # When staff place an order of cus_acme and ship 2 widgets: the invoice is issued
    order = placed(client, world)
    ship(client, world, order["id"], [(1, 2)])
    world.pump.drain()

    # Then the subscribed partner got one signed POST naming the customer, the invoice, its
    # amount and currency, and nothing else of the document
    [invoice] = documents(world)
    [request] = receiver.requests
    assert _verifies(secret, request)
    event = json.loads(request.body)
    assert event["type"] == "InvoiceIssued"
    data = event["data"]
    assert data["customer_id"] == "cus_acme"
    assert (data["id"], data["number"], data["order_id"]) == (
        invoice["id"],
        invoice["number"],
        order["id"],
    )
    assert data["total"] == {"amount": "47.58", "currency": "EUR"} == invoice["total"]
    assert data["currency"] == "EUR" and data["amount_due"] == invoice["amount_due"]
    assert not {"buyer", "seller", "lines", "payment"} & set(data)
    _conforms(event, "MoneyWebhookEvent")
    # and the partner not subscribed, and the one not bound to the customer, got nothing
    assert other_receiver.requests == []
    # and the delivery is listed like any other
    [delivery] = json.loads(_deliveries(client).body)["deliveries"]
    assert delivery["event_type"] == "InvoiceIssued" and delivery["status"] == "delivered"
    _conforms(json.loads(_deliveries(client).body), "WebhookDeliveryPage")


def test_a_payment_applied_is_posted_with_what_it_paid(world, client, receiver) -> None:
    from shared import clock
    from tests.functional.accounts import call
    from tests.functional.invoicing import documents, placed, ship

    # Given the partner subscribed to PaymentApplied, and an invoice of 47.58
    secret = _register(client, receiver.url, events=["PaymentApplied"])
    order = placed(client, world)
    ship(client, world, order["id"], [(1, 2)])
    [invoice] = documents(world)

    # When a cheque for it is recorded and cash application applies it
    cheque = {
        "amount": "47.58",
        "currency": "EUR",
        "method": "cheque",
        "received_on": clock.now().date().isoformat(),
        "payer_name": "ACME Retail GmbH",
        "reference": "0001042",
        "remittance": invoice["number"],
        "customer_id": "cus_acme",
    }
    answer = call(client, "POST", "/payments", body=cheque)
    assert answer.status == 201, answer.body
    world.pump.drain()

    # Then the partner got the payment and what it paid, without the payer's details
    [request] = receiver.requests
    assert _verifies(secret, request)
    event = json.loads(request.body)
    assert event["type"] == "PaymentApplied"
    data = event["data"]
    assert data["id"] == answer.body["id"] and data["customer_id"] == "cus_acme"
    assert data["amount"] == {"amount": "47.58", "currency": "EUR"}
    assert data["unapplied"] == {"amount": "0.00", "currency": "EUR"}
    [allocated] = data["allocated"]
    assert allocated["invoice_id"] == invoice["id"]
    assert allocated["amount"] == {"amount": "47.58", "currency": "EUR"}
    assert "evidence" not in allocated
    assert not {"payer_name", "payer_account", "remittance", "decision"} & set(data)
    _conforms(event, "MoneyWebhookEvent")


def test_a_redelivered_money_event_posts_nothing_more_and_a_failing_partner_is_retried_alone(
    world, client, receiver, other_receiver
) -> None:
    # Given two partners of cus_acme subscribed to refunds, the second one's endpoint failing
    _register(client, receiver.url, events=["PaymentRefunded"])
    _partner("prt_bound", OTHER_PARTNER_BOUND_KEY, ("cus_acme",))
    _register_as(
        client, "prt_bound", OTHER_PARTNER_BOUND_KEY, other_receiver.url, ["PaymentRefunded"]
    )
    other_receiver.answers = [500]
    refund = {
        "id": "pay_1",
        "customer_id": "cus_acme",
        "currency": "EUR",
        "amount": {"amount": "47.58", "currency": "EUR"},
        "refund": {"amount": "20.00", "currency": "EUR"},
        "status": "partially_applied",
        "payer_account": "DE89370400440532013000",
        "unapplied_allocations": [
            {
                "id": "alc_1",
                "invoice_id": "inv_1",
                "invoice_number": "INV-1",
                "amount": {"amount": "20.00", "currency": "EUR"},
                "evidence": ["remittance"],
            }
        ],
    }
    event = _put_money_event(world, "PaymentRefunded", refund, source="otc.payments")

    # When the consumers run (the failing delivery is retried, as SQS does)
    world.pump.drain()

    # Then each partner got the refund exactly once with a 2xx, the first partner only once
    assert len(receiver.requests) == 1
    assert [json.loads(r.body)["data"]["refund"]["amount"] for r in other_receiver.requests] == [
        "20.00",
        "20.00",
    ]
    data = json.loads(receiver.requests[0].body)["data"]
    assert "payer_account" not in data
    assert data["unapplied_allocations"] == [
        {
            "id": "alc_1",
            "invoice_id": "inv_1",
            "invoice_number": "INV-1",
            "amount": {"amount": "20.00", "currency": "EUR"},
        }
    ]
    # and a duplicate of the event on the bus posts nothing more to anyone
    _put_money_event(
        world, "PaymentRefunded", refund, source="otc.payments",
        event_id=event["metadata"]["event_id"],
    )  # fmt: skip
    world.pump.drain()
    assert (len(receiver.requests), len(other_receiver.requests)) == (1, 2)


def test_announced_money_events_are_delivered_once_emitted(world, client, receiver) -> None:
    # Given a partner subscribed to write-offs and credit applications
    _register(client, receiver.url, events=["WriteOffPosted", "CreditApplied"])

    # When the emitters publish them in the documented shape
    write_off = {
        "write_off_id": "wo_1",
        "customer_id": "cus_acme",
        "invoice_id": "inv_1",
        "invoice_number": "INV-1",
        "currency": "EUR",
        "amount": {"amount": "0.02", "currency": "EUR"},
        "reason": "small difference",
        "posted_by": "system:apply_cash",
    }
    applied = {
        "credit_id": "cn_1",
        "customer_id": "cus_acme",
        "invoice_id": "inv_2",
        "invoice_number": "INV-2",
        "currency": "EUR",
        "amount": {"amount": "10.00", "currency": "EUR"},
    }
    _put_money_event(world, "WriteOffPosted", write_off, source="otc.ledger")
    _put_money_event(world, "CreditApplied", applied, source="otc.credits")
    world.pump.drain()

    # Then both arrive with their fields
    received = {json.loads(r.body)["type"]: json.loads(r.body) for r in receiver.requests}
    assert received["WriteOffPosted"]["data"] == {
        key: value for key, value in write_off.items() if key != "posted_by"
    }
    assert received["CreditApplied"]["data"] == applied
    for event in received.values():
        _conforms(event, "MoneyWebhookEvent")


def test_unsubscribing_or_removing_the_webhook_stops_money_events(world, client, receiver) -> None:
    # Given a partner subscribed to invoices, then only to orders
    _register(client, receiver.url, events=["InvoiceIssued", "OrderShipped"])
    _register(client, receiver.url, events=["OrderShipped"])
    _put_money_event(
        world, "InvoiceIssued", {"id": "inv_1", "customer_id": "cus_acme"}, source="otc.invoicing"
    )
    world.pump.drain()
    assert receiver.requests == []
    assert [i for i in world.table_items() if i["pk"].startswith("WEBHOOK_SUBSCRIBERS#")] == []

    # Given it subscribes again, then removes its webhook
    _register(client, receiver.url, events=["InvoiceIssued"])
    assert (
        len([i for i in world.table_items() if i["pk"] == "WEBHOOK_SUBSCRIBERS#InvoiceIssued"]) == 1
    )
    response = client.http.delete(f"/partners/{PARTNER}/webhook", headers=_headers(PARTNER_KEY))
    assert response.status_code == 204, response.body
    _put_money_event(
        world, "InvoiceIssued", {"id": "inv_2", "customer_id": "cus_acme"}, source="otc.invoicing"
    )
    world.pump.drain()

    # Then nothing was sent, and no subscriber item is left
    assert receiver.requests == []
    assert [i for i in world.table_items() if i["pk"].startswith("WEBHOOK_SUBSCRIBERS#")] == []


def test_a_partner_may_subscribe_to_money_events_by_name_only(world, client) -> None:
    # the default stays every order event
    assert json.loads(_put(client, {"url": "https://hooks.acme.example/otc"}).body)[
        "events"
    ] == list(webhooks.ORDER_EVENT_TYPES)
    # money events are named, and answered in canonical order
    body = {
        "url": "https://hooks.acme.example/otc",
        "events": ["PaymentApplied", "OrderShipped", "InvoiceIssued"],
    }
    registered = json.loads(_put(client, body).body)
    assert registered["events"] == ["OrderShipped", "InvoiceIssued", "PaymentApplied"]
    _conforms(registered, "WebhookWithSecret")


def test_a_credit_note_issued_is_posted_with_the_invoice_it_corrects(
    world, client, receiver
) -> None:
    from tests.functional.invoicing import credit_note, documents, placed, ship

    # Given the partner subscribed to credit notes, and an invoice of 2 widgets
    secret = _register(client, receiver.url, events=["CreditNoteIssued"])
    order = placed(client, world)
    ship(client, world, order["id"], [(1, 2)])
    [invoice] = documents(world)

    # When a clerk credits one widget
    body = {"reason": "One widget arrived damaged", "lines": [{"line_no": 1, "quantity": "1"}]}
    answer = credit_note(client, invoice["id"], body)
    assert answer.status == 201, answer.body
    world.pump.drain()

    # Then only the credit note reached the partner, naming the invoice it corrects
    [request] = receiver.requests
    assert _verifies(secret, request)
    event = json.loads(request.body)
    assert event["type"] == "CreditNoteIssued"
    data = event["data"]
    assert (data["id"], data["kind"], data["customer_id"]) == (
        answer.body["id"],
        "credit_note",
        "cus_acme",
    )
    assert (data["credited_invoice_id"], data["credited_invoice_number"]) == (
        invoice["id"],
        invoice["number"],
    )
    assert data["total"] == answer.body["total"] and data["currency"] == "EUR"
    _conforms(event, "MoneyWebhookEvent")


def test_a_write_off_and_its_reversal_reach_the_partner_subscribed_to_them(
    world, client, receiver
) -> None:
    from tests.functional.accounts import call
    from tests.functional.cash import issued_invoice

    # Given the demo partner subscribed to write-offs, and an invoice of its customer
    secret = _register(client, receiver.url, events=["WriteOffPosted", "WriteOffReversed"])
    invoice = issued_invoice(client, world)
    receiver.requests.clear()

    # When a credit manager writes 20.00 off as bad debt, then takes it back
    body = {"amount": "20.00", "reason": "Customer insolvent"}
    posted = call(client, "POST", f"/invoices/{invoice.invoice_id}/write-offs", body=body)
    assert posted.status == 201, posted.body
    write_off_id = posted.body["write_off"]["id"]
    path = f"/invoices/{invoice.invoice_id}/write-offs/{write_off_id}/reversal"
    taken_back = call(client, "POST", path, body={"reason": "Administrator paid a dividend"})
    assert taken_back.status == 200, taken_back.body
    world.pump.drain()

    # Then the partner got both, signed, with the write-off's own fields and nothing else
    events = [json.loads(request.body) for request in receiver.requests]
    assert all(_verifies(secret, request) for request in receiver.requests)
    assert sorted(event["type"] for event in events) == ["WriteOffPosted", "WriteOffReversed"]
    for event in events:
        reason = "Customer insolvent"
        if event["type"] == "WriteOffReversed":
            reason = "Administrator paid a dividend"
        assert event["data"] == {
            "write_off_id": write_off_id,
            "customer_id": "cus_acme",
            "invoice_id": invoice.invoice_id,
            "invoice_number": invoice.number,
            "currency": "EUR",
            "amount": {"amount": "20.00", "currency": "EUR"},
            "reason": reason,
        }
        _conforms(event, "MoneyWebhookEvent")


# --- case events ----------------------------------------------------------------------------------

CASE_EVENTS = ["CaseOpened", "CaseAnswered", "CaseResolved"]


def test_case_events_reach_the_subscribed_partners_of_the_cases_customer(
    world, client, receiver, other_receiver
) -> None:
    from tests.functional.accounts import call

    # Given the demo partner (bound to cus_acme) subscribed to case events; another partner
    # bound to cus_acme on the default (order events only); a third subscribed to case events
    # but bound to another customer
    secret = _register(client, receiver.url, events=CASE_EVENTS)
    _partner("prt_bound", OTHER_PARTNER_BOUND_KEY, ("cus_acme",))
    _register_as(client, "prt_bound", OTHER_PARTNER_BOUND_KEY, other_receiver.url, None)
    _partner("prt_other", OTHER_PARTNER_KEY, ("cus_other",))
    _register_as(client, "prt_other", OTHER_PARTNER_KEY, other_receiver.url, CASE_EVENTS)

    # When a question of cus_acme is opened, given to another owner (the seller's own business,
    # no case event a partner gets), answered and resolved
    question = {"customer_id": "cus_acme", "kind": "question", "subject": "Terms?", "message": "?"}
    case = call(client, "POST", "/cases", key=PARTNER_KEY, body=question).body
    path = f"/cases/{case['case_id']}"
    call(client, "PATCH", path, body={"owner": "credit_manager", "version": 1})
    call(client, "POST", f"{path}/messages", body={"text": "Net 30", "version": 2})
    resolved = call(
        client,
        "POST",
        f"{path}/resolution",
        body={"outcome": "answered", "note": "Done", "version": 3},
    )
    assert resolved.status == 200, resolved.body
    world.pump.drain()

    # Then the subscribed partner got each event once, signed, with the case as the customer
    # sees it: no owner, contact or staff names
    sent = [json.loads(request.body) for request in receiver.requests]
    assert [event["type"] for event in sent] == CASE_EVENTS
    assert all(_verifies(secret, request) for request in receiver.requests)
    for event in sent:
        _conforms(event, "CaseWebhookEvent")
        assert (event["data"]["case_id"], event["data"]["number"]) == (
            case["case_id"],
            case["number"],
        )
        assert not {"owner", "owner_set_by", "contact", "opened_by"} & set(event["data"])
    opened, answered, closed = (event["data"] for event in sent)
    assert opened["status"] == "open" and opened["kind"] == "question"
    assert answered["message"]["text"] == "Net 30" and "author" not in answered["message"]
    assert closed["resolution"] == {"outcome": "answered", "note": "Done"}
    # and neither the unsubscribed partner nor the one bound to another customer got anything
    assert other_receiver.requests == []


def test_case_events_are_routed_to_the_webhook_queue_and_unknown_ones_refused(
    world, client
) -> None:
    for detail_type in webhooks.CASE_EVENT_TYPES:
        _put_money_event(world, detail_type, {"customer_id": "cus_acme"}, source="otc.cases")
    assert world.queue_depth("PartnerWebhooksQueue") == len(webhooks.CASE_EVENT_TYPES)
    refused = _put(client, {"url": "https://hooks.acme.example/otc", "events": ["CaseReassigned"]})
    assert refused.status_code == 422, refused.body
    assert json.loads(_put(client, {"url": "https://hooks.acme.example/otc"}).body)[
        "events"
    ] == list(webhooks.ORDER_EVENT_TYPES)
