"""POST /orders and GET /orders/{id} through Chalice's test client against moto."""

from __future__ import annotations

import json

import pytest

from tests.functional.conftest import (
    ADMIN_KEY,
    PARTNER_KEY,
    order_body,
    post_order,
)

PROBLEM = "application/problem+json"


def test_a_partner_places_an_order_that_is_priced_and_received(world, client):
    # Given a partner bound to cus_acme
    # When it posts an order
    response = post_order(client, order_body())
    # Then the order is received, priced per line half-up to cents
    assert response.status_code == 201
    order = json.loads(response.body)
    assert response.headers["Location"] == f"/orders/{order['id']}"
    assert order["status"] == "received"
    assert [line["line_total"] for line in order["lines"]] == ["59.97", "0.13"]
    assert order["total"] == {"amount": "60.10", "currency": "EUR"}
    # and the state, its OrderReceived event and the order's audit chain head were written
    # together (the event item is the outbox entry: the stream publishes it)
    entities = sorted(item["entity"] for item in world.written())
    assert entities == ["AuditHead", "Event", "Order"]


def test_the_worker_confirms_the_order_and_get_shows_it(world, client):
    # Given a received order
    order = json.loads(post_order(client, order_body()).body)
    # When the events flow: stream -> publisher -> bus -> rule -> queue -> worker
    world.pump.drain()
    # Then GET shows it confirmed, with both events in its audit trail and nothing dead-lettered
    got = client.http.get(f"/orders/{order['id']}", headers={"X-Api-Key": PARTNER_KEY})
    assert got.status_code == 200
    assert json.loads(got.body)["status"] == "confirmed"
    events = [item["detail_type"] for item in world.table_items() if item.get("entity") == "Event"]
    assert sorted(events) == ["OrderConfirmed", "OrderReceived"]
    assert world.queue_depth("OrderConfirmationDeadLetterQueue") == 0


def test_staff_may_read_any_customers_order(world, client):
    order = json.loads(post_order(client, order_body()).body)
    got = client.http.get(f"/orders/{order['id']}", headers={"X-Api-Key": ADMIN_KEY})
    assert got.status_code == 200


@pytest.mark.parametrize(
    ("body", "status", "kind"),
    [
        (b"{not json", 400, "malformed-json"),
        (b"", 400, "malformed-json"),
        ("[1, 2]", 422, "validation-error"),
        (order_body(lines=[]), 422, "validation-error"),
        (
            {"currency": "EUR", "lines": [{"sku": "A", "quantity": 1, "unit_price": "1"}]},
            422,
            "validation-error",
        ),
        (
            order_body(lines=[{"sku": "A", "quantity": -2, "unit_price": "1.00"}]),
            422,
            "validation-error",
        ),
        (
            order_body(lines=[{"sku": "A", "quantity": 0, "unit_price": "1.00"}]),
            422,
            "validation-error",
        ),
        (
            order_body(lines=[{"sku": "A", "quantity": 1, "unit_price": "-1.00"}]),
            422,
            "validation-error",
        ),
        (order_body(currency="XYZ"), 422, "validation-error"),
        (order_body(currency="eur"), 422, "validation-error"),
        (
            order_body(lines=[{"sku": "A", "quantity": "3", "unit_price": "1.00"}]),
            422,
            "validation-error",
        ),
        (
            order_body(lines=[{"sku": "A", "quantity": 1.5, "unit_price": "1.00"}]),
            422,
            "validation-error",
        ),
        (
            order_body(lines=[{"sku": "A", "quantity": 1, "unit_price": 1.0}]),
            422,
            "validation-error",
        ),
        (
            order_body(lines=[{"sku": "A", "quantity": True, "unit_price": "1.00"}]),
            422,
            "validation-error",
        ),
        (order_body(customer_id=42), 422, "validation-error"),
        (order_body(surprise="field"), 422, "validation-error"),
        (order_body(lines="WIDGET"), 422, "validation-error"),
        (order_body(customer_id="cus_unknown"), 404, "not-found"),
        (b"x" * (50 * 1024 * 1024), 413, "payload-too-large"),
    ],
    ids=[
        "malformed",
        "empty",
        "array",
        "no-lines",
        "missing-customer",
        "negative-quantity",
        "zero-quantity",
        "negative-price",
        "unknown-currency",
        "lowercase-currency",
        "quantity-as-string",
        "fractional-quantity",
        "price-as-number",
        "quantity-as-bool",
        "customer-as-number",
        "unknown-field",
        "lines-as-string",
        "unknown-customer",
        "50MB",
    ],
)
def test_bad_input_answers_problem_json_and_writes_nothing(world, client, body, status, kind):
    # When a partner posts a bad body
    response = post_order(client, body)
    # Then it gets a problem with a stable type, and nothing was written
    assert response.status_code == status
    assert response.headers["Content-Type"] == PROBLEM
    problem = json.loads(response.body)
    assert problem["type"].endswith("/" + kind)
    assert problem["status"] == status
    assert problem["detail"]
    if kind == "validation-error":
        assert problem["errors"] and all(
            error["pointer"].startswith("#") for error in problem["errors"]
        )
    assert world.written() == []


def test_validation_errors_point_at_the_failing_fields(world, client):
    body = order_body(lines=[{"sku": "A", "quantity": -1, "unit_price": "abc"}])
    problem = json.loads(post_order(client, body).body)
    assert {error["pointer"] for error in problem["errors"]} == {
        "#/lines/0/quantity",
        "#/lines/0/unit_price",
    }


@pytest.mark.parametrize(
    "key", [None, "", "otc_wrong_key", "x" * 500], ids=["none", "empty", "wrong", "huge"]
)
def test_without_a_valid_api_key_the_answer_is_401(world, client, key):
    response = post_order(client, order_body(), key=key)
    assert response.status_code == 401
    assert response.headers["Content-Type"] == PROBLEM
    assert response.headers["WWW-Authenticate"].startswith("ApiKey")
    assert world.written() == []
    got = client.http.get("/orders/ord_x", headers={"X-Api-Key": key} if key else {})
    assert got.status_code == 401


def test_a_partner_cannot_order_for_or_see_another_customer(world, client):
    # Given an order for cus_acme placed by staff, and a partner bound only to cus_other's group
    from shared.http.auth import Principal, Role, key_item
    from shared.store import table
    from shared.store.table import Put

    outsider = Principal(
        principal_id="prt_out", role=Role.PARTNER, customer_ids=frozenset({"cus_globex2"})
    )
    table.transact([Put.new(key_item("otc_outsider_key_000000000000", outsider))])
    order = json.loads(post_order(client, order_body(), key=ADMIN_KEY).body)
    # When the outsider reads it, or orders for cus_acme
    got = client.http.get(
        f"/orders/{order['id']}", headers={"X-Api-Key": "otc_outsider_key_000000000000"}
    )
    placed = post_order(client, order_body(), key="otc_outsider_key_000000000000")
    # Then both answer 404, exactly like a missing resource
    assert got.status_code == placed.status_code == 404
    missing = client.http.get("/orders/ord_missing", headers={"X-Api-Key": PARTNER_KEY})
    assert json.loads(got.body)["type"] == json.loads(missing.body)["type"]


def test_same_idempotency_key_and_body_replays_the_first_answer(world, client):
    # Given a placed order
    first = post_order(client, order_body(), idempotency_key="key-1")
    # When the partner retries with the same key and body
    again = post_order(client, order_body(), idempotency_key="key-1")
    # Then it gets the same answer and no second order exists
    assert again.status_code == 201
    assert json.loads(again.body) == json.loads(first.body)
    assert len([i for i in world.table_items() if i.get("entity") == "Order"]) == 1


def test_same_idempotency_key_with_another_body_answers_422(world, client):
    post_order(client, order_body(), idempotency_key="key-2")
    other = post_order(client, order_body(purchase_order="PO-other"), idempotency_key="key-2")
    assert other.status_code == 422
    assert json.loads(other.body)["type"].endswith("/idempotency-key-reused")
    assert len([i for i in world.table_items() if i.get("entity") == "Order"]) == 1


def test_a_retry_replays_the_first_answer_after_the_customer_closed(world, client):
    # Given a placed order, and its customer closed since
    first = post_order(client, order_body(), idempotency_key="key-4")
    admin = {"X-Api-Key": ADMIN_KEY, "Content-Type": "application/json"}
    version = json.loads(client.http.get("/customers/cus_acme", headers=admin).body)["version"]
    closing = json.dumps({"version": version, "status": "closed"})
    assert client.http.patch("/customers/cus_acme", headers=admin, body=closing).status_code == 200
    # When the partner retries the first request, and sends a new one
    again = post_order(client, order_body(), idempotency_key="key-4")
    other = post_order(client, order_body(), idempotency_key="key-5")
    # Then the retry gets the first answer, and only the new request is refused
    assert again.status_code == 201
    assert json.loads(again.body) == json.loads(first.body)
    assert other.status_code == 422
    assert json.loads(other.body)["type"].endswith("/customer-closed")
    assert len([i for i in world.table_items() if i.get("entity") == "Order"]) == 1


def test_idempotency_keys_are_scoped_per_caller(world, client):
    post_order(client, order_body(), idempotency_key="shared-key")
    staff = post_order(client, order_body(), key=ADMIN_KEY, idempotency_key="shared-key")
    assert staff.status_code == 201
    assert len([i for i in world.table_items() if i.get("entity") == "Order"]) == 2


def test_a_post_without_idempotency_key_is_rejected(world, client):
    response = client.http.post(
        "/orders",
        headers={"Content-Type": "application/json", "X-Api-Key": PARTNER_KEY},
        body=json.dumps(order_body()),
    )
    assert response.status_code == 400
    assert json.loads(response.body)["type"].endswith("/idempotency-key-required")
    assert world.written() == []


def test_a_rejected_request_does_not_burn_its_idempotency_key(world, client):
    bad = post_order(client, order_body(customer_id="cus_unknown"), idempotency_key="key-3")
    good = post_order(client, order_body(customer_id="cus_unknown"), idempotency_key="key-3")
    assert bad.status_code == good.status_code == 404


def test_framework_errors_are_problem_json_too(world, client):
    response = client.http.post(
        "/orders",
        headers={"Content-Type": "text/plain", "X-Api-Key": PARTNER_KEY, "Idempotency-Key": "k"},
        body="hello",
    )
    assert response.status_code == 415
    assert response.headers["Content-Type"] == PROBLEM
    assert json.loads(response.body)["type"].endswith("/unsupported-media-type")


def test_an_unexpected_error_is_a_problem_500_without_internals(world, client, monkeypatch):
    from shared.store import orders

    def broken(order_id: str):
        raise RuntimeError("secret internals")

    monkeypatch.setattr(orders, "get", broken)
    response = client.http.get("/orders/ord_1", headers={"X-Api-Key": PARTNER_KEY})
    assert response.status_code == 500
    assert response.headers["Content-Type"] == PROBLEM
    assert "secret" not in response.body.decode()
