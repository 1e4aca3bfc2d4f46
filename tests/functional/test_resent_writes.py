"""Writes the SDK re-sends after a timeout, when the first send went through, answer as the
first send would have: the state after it, created once, never a 409 against themselves."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from botocore.exceptions import ClientError

from shared import clock
from shared.adapters import aws
from shared.config import settings
from shared.store import notifications, stock, table
from tests.functional.accounts import call, customer_body
from tests.functional.cash import issued_invoice
from tests.functional.conftest import World
from tests.functional.invoicing import placed
from tests.functional.sdk_retry import first_send_times_out


def _entities(world: World, entity: str) -> list[dict[str, Any]]:
    return [item for item in world.written() if item.get("entity") == entity]


def _events(world: World, detail_type: str) -> list[dict[str, Any]]:
    return [item for item in _entities(world, "Event") if item["detail_type"] == detail_type]


def _transaction_writing(entity: str) -> Any:
    def matches(body: dict[str, Any]) -> bool:
        return any(
            write.get("Put", {}).get("Item", {}).get("entity") == {"S": entity}
            for write in body["TransactItems"]
        )

    return matches


def test_a_resent_put_of_the_in_progress_record_is_its_own_request_not_a_second_one(
    world: World, client
):
    # Given the SDK's first send of the Idempotency-Key's in-progress record times out after
    # it was written (POST /customers keeps the record; an order's answer rides in its own
    # transaction, below)
    idempotency_table = settings().idempotency_table_name
    with first_send_times_out(
        "PutItem", lambda body: body["TableName"] == idempotency_table
    ) as timed_out:
        # When staff open a customer with a fresh key
        answer = call(client, "POST", "/customers", body=customer_body())

    # Then the re-send is recognised as the request's own: 201 with the customer, created once
    assert timed_out, "the in-progress record's put never timed out"
    assert answer.status == 201, answer.body
    [created] = [c for c in _entities(world, "Customer") if c["legal_name"] == "Initech SARL"]
    assert created["customer_id"] == answer.body["id"]
    created_events = [
        event
        for event in _events(world, "CustomerCreated")
        if event["aggregate_id"] == created["customer_id"]
    ]
    assert len(created_events) == 1


def test_a_resent_first_count_of_a_new_sku_starts_tracking_it_once(world: World, client):
    # Given the SDK's first send of the transaction that starts tracking a SKU times out after
    # it was written
    with first_send_times_out("TransactWriteItems", _transaction_writing("Stock")) as timed_out:
        # When staff count SERVICE-HOUR (no stock item yet) with version 0
        answer = call(client, "PUT", "/stock/SERVICE-HOUR", body={"on_hand": 40, "version": 0})

    # Then the answer is the level it started, not 409 "at version 1"
    assert timed_out, "the stock transaction never timed out"
    assert answer.status == 201, answer.body
    assert (answer.body["on_hand"], answer.body["version"]) == (40, 1)
    [level] = _entities(world, "Stock")
    assert (level["available"], level["version"]) == (40, 1)
    assert len(_events(world, "StockLevelSet")) == 1


def test_a_resent_first_promise_is_recorded_once_and_answered_201(world: World, client):
    # Given an issued invoice, and the SDK's first send of the promise's transaction timing
    # out after it was written
    invoice = issued_invoice(client, world)
    promised_on = (clock.now() + timedelta(days=7)).date().isoformat()
    with first_send_times_out(
        "TransactWriteItems", _transaction_writing("PromiseToPay")
    ) as timed_out:
        # When a clerk records the first promise on it
        answer = call(
            client,
            "POST",
            f"/invoices/{invoice.invoice_id}/promises",
            body={"promised_on": promised_on, "amount": "10.00"},
        )

    # Then it is recorded once and answered 201
    assert timed_out, "the promise's transaction never timed out"
    assert answer.status == 201, answer.body
    assert (answer.body["promised_on"], answer.body["amount"]) == (promised_on, "10.00")
    assert len(_events(world, "PromiseToPayRecorded")) == 1


def test_a_resent_shipment_answers_the_order_after_the_shipment(world: World, client):
    # Given a confirmed order, and the SDK's first send of the shipment's transaction timing
    # out after it was written
    order = placed(client, world)
    body = {
        "carrier": "DHL",
        "tracking_number": "JD0001",
        "lines": [{"line_no": 1, "quantity": 2}],
    }
    with first_send_times_out("TransactWriteItems", _transaction_writing("Shipment")) as timed_out:
        # When the warehouse records the shipment
        answer = call(client, "POST", f"/orders/{order['id']}/shipments", body=body)

    # Then the answer carries the order AFTER the shipment, and it was recorded once
    assert timed_out, "the shipment's transaction never timed out"
    assert answer.status == 201, answer.body
    shipped = answer.body["order"]
    assert shipped["version"] == order["version"] + 1
    assert shipped["lines"][0]["shipped"] == 2
    assert call(client, "GET", f"/orders/{order['id']}").body == shipped
    assert len(_entities(world, "Shipment")) == 1
    assert len(_events(world, "OrderShipped")) == 1


def test_a_resent_claim_of_an_e_mail_holds_it_so_the_e_mail_goes_out(world: World):
    # Given the SDK's first send of an e-mail's claim times out after it was written
    def is_claim(body: dict[str, Any]) -> bool:
        return body.get("Item", {}).get("entity") == {"S": "Notification"}

    with first_send_times_out("PutItem", is_claim) as timed_out:
        # When the notifier claims the e-mail
        held = notifications.claim("evt_1", "ap@acme.example", detail_type="InvoiceIssued")

    # Then the claim is its own: it holds it (None would leave the e-mail unsent)
    assert timed_out, "the claim never timed out"
    assert held is not None
    [marker] = _entities(world, "Notification")
    assert marker["claim_token"] == held.token and marker["status"] == "sending"


def test_two_identical_moves_are_two_moves_not_a_resend(world: World):
    # Given WIDGET-1's level
    before = stock.get_level("WIDGET-1")

    # When two callers each reserve one unit with the very same transaction
    table.transact([stock.reserve("WIDGET-1", 1)])
    table.transact([stock.reserve("WIDGET-1", 1)])

    # Then both were applied: only a re-send of one call is answered as its first send
    after = stock.get_level("WIDGET-1")
    assert (after.available, after.reserved) == (before.available - 2, before.reserved + 2)


def test_the_local_stack_answers_a_token_as_dynamodb_documents_it(world: World):
    # Given a transaction written with a token
    dynamodb = aws.client("dynamodb")
    reserve = [stock.reserve("WIDGET-1", 1).to_request(table.table_name())]
    release = [stock.release("WIDGET-1", 1).to_request(table.table_name())]
    before = stock.get_level("WIDGET-1")
    dynamodb.transact_write_items(TransactItems=reserve, ClientRequestToken="tok-1")

    # When the same request is sent again with it, and another request with it
    dynamodb.transact_write_items(TransactItems=reserve, ClientRequestToken="tok-1")
    with pytest.raises(ClientError) as mismatch:
        dynamodb.transact_write_items(TransactItems=release, ClientRequestToken="tok-1")

    # Then the repeat succeeded without writing again, and the other request was refused
    assert stock.get_level("WIDGET-1").reserved == before.reserved + 1
    assert mismatch.value.response["Error"]["Code"] == "IdempotentParameterMismatchException"
