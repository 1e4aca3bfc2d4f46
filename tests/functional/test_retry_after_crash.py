"""A Lambda that dies after a POST's write, before its answer was saved: the retry repeats nothing.

Powertools saves the answer of an Idempotency-Key only once the use case returned; a crash in
between leaves the partner's retry (same key, same body) to run the use case again. Each test
lets the worker die right after the use case's transaction went through, then retries.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from chalice.test import Client

import app as app_module
from bench.faults import Crash, FaultInjector
from infra.local.offline import reset_process_state
from shared import clock, ids
from shared.domain.order import Shipment, ShipmentLine
from shared.http.auth import hash_key
from shared.store import orders, table
from tests.functional.accounts import Answer, call, customer_body
from tests.functional.cash import CUSTOMER, invoice_now, issued_invoice, paid_in, payment_now
from tests.functional.conftest import World, order_body, post_order
from tests.functional.invoicing import assert_ledger_balanced, documents, entities, placed, ship
from tests.functional.test_manual_payments import cheque


def _crash_then_retry(client: Client, path: str, body: Any, *, use_case: str) -> Answer:
    """POST ``body``; the Lambda dies right after ``use_case`` committed; the caller retries."""
    reset_process_state()  # clients created from now on carry the injector's hooks
    injector = FaultInjector("crash", only={("dynamodb.TransactWriteItems", use_case)})
    injector.attach()
    try:
        with pytest.raises(Crash):
            call(client, "POST", path, body=body, idempotency_key="crash-then-retry")
        with injector.paused():  # the retry's own writes go through (the clock stays moved)
            retried = call(client, "POST", path, body=body, idempotency_key="crash-then-retry")
    finally:
        injector.detach()
    assert injector.faults_injected == 1
    return retried


@pytest.fixture
def secrets(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """Every key secret drawn, in order (the first attempt's never reaches the caller)."""
    drawn: list[str] = []
    new_key = ids.new_key

    def recorded() -> str:
        drawn.append(new_key())
        return drawn[-1]

    monkeypatch.setattr(ids, "new_key", recorded)
    yield drawn


def _keys_of(world: World, principal_id: str) -> list[dict[str, Any]]:
    return [key for key in entities(world, "ApiKey") if key["principal_id"] == principal_id]


def _reads(client: Client, secret: str) -> int:
    return call(client, "GET", f"/customers/{CUSTOMER}", key=secret).status


# --- cash -----------------------------------------------------------------------------------


def test_an_allocation_made_before_a_crash_is_not_made_again_by_the_retry(
    client: Client, world: World
):
    # Given an open invoice and an unidentified payment of its whole amount
    invoice = issued_invoice(client, world)
    payment = paid_in(world, str(invoice.total), payer_name="Crash Payer")
    body = {
        "customer_id": CUSTOMER,
        "allocations": [{"invoice_id": invoice.invoice_id, "amount": "5.00"}],
    }

    # When the Lambda dies right after the allocation's transaction, and the clerk's client retries
    retried = _crash_then_retry(
        client,
        f"/payments/{payment.payment_id}/allocations",
        body,
        use_case="functions/payments/allocate_manually.py",
    )

    # Then the retry answers the payment with the first attempt's allocation, applied once
    assert retried.status == 201, retried.body
    [allocation] = payment_now(payment.payment_id).allocations
    assert [a["id"] for a in retried.body["allocations"]] == [allocation.allocation_id]
    assert payment_now(payment.payment_id).unapplied == invoice.total - Decimal("5.00")
    assert invoice_now(invoice.invoice_id).amount_due == invoice.total - Decimal("5.00")
    assert_ledger_balanced(CUSTOMER)


# --- access: the first attempt's secret never reached the caller ----------------------------


def test_a_key_issued_before_a_crash_is_given_a_new_secret_by_the_retry(
    client: Client, world: World, secrets: list[str]
):
    # Given a partner with its first key
    registered = call(
        client, "POST", "/partners", body={"name": "Crash ERP", "customer_ids": [CUSTOMER]}
    )
    assert registered.status == 201, registered.body
    partner_id = registered.body["partner"]["id"]
    first_key = registered.body["api_key"]["secret"]

    # When the Lambda dies right after a second key was stored, and the admin's client retries
    retried = _crash_then_retry(
        client,
        f"/principals/{partner_id}/keys",
        {"label": "ERP prod"},
        use_case="functions/accounts/issue_key.py",
    )

    # Then the retry answers the key the first attempt stored, with a new secret
    assert retried.status == 201, retried.body
    lost, answered = secrets[-2:]
    assert retried.body["api_key"]["secret"] == answered != lost
    keys = _keys_of(world, partner_id)
    assert sorted(key["key_id"] for key in keys) == sorted(
        [registered.body["api_key"]["key_id"], retried.body["api_key"]["key_id"]]
    )
    [issued] = [key for key in keys if key["key_id"] == retried.body["api_key"]["key_id"]]
    assert issued["pk"] == f"APIKEY#{hash_key(answered)}" and issued["label"] == "ERP prod"
    # and the secret nobody holds opens nothing; the answered one and the first key work
    assert _reads(client, lost) == 401
    assert _reads(client, answered) == _reads(client, first_key) == 200
    listed = call(client, "GET", f"/principals/{partner_id}/keys").body["keys"]
    assert [key["status"] for key in listed] == ["active", "active"]


def test_a_partner_registered_before_a_crash_is_not_registered_again_by_the_retry(
    client: Client, world: World, secrets: list[str]
):
    # When the Lambda dies right after the partner's transaction, and the admin's client retries
    retried = _crash_then_retry(
        client,
        "/partners",
        {"name": "Crash ERP", "customer_ids": [CUSTOMER]},
        use_case="functions/accounts/create_partner.py",
    )

    # Then the retry answers the partner the first attempt registered, registered once
    assert retried.status == 201, retried.body
    partner_id = retried.body["partner"]["id"]
    named = [p for p in entities(world, "Principal") if p["name"] == "Crash ERP"]
    assert [p["principal_id"] for p in named] == [partner_id]
    assert retried.headers["Location"] == f"/partners/{partner_id}"
    # with one key, whose secret is the one answered; the first attempt's opens nothing
    lost, answered = secrets[0], secrets[-1]  # the first attempt's, the retry's last
    assert retried.body["api_key"]["secret"] == answered
    [key] = _keys_of(world, partner_id)
    assert key["key_id"] == retried.body["api_key"]["key_id"]
    assert key["pk"] == f"APIKEY#{hash_key(answered)}"
    assert retried.body["partner"]["active_keys"] == 1
    assert _reads(client, lost) == 401 and _reads(client, answered) == 200


def test_staff_registered_before_a_crash_is_not_registered_again_by_the_retry(
    client: Client, world: World, secrets: list[str]
):
    # When the Lambda dies right after the staff member's transaction, and the client retries
    retried = _crash_then_retry(
        client,
        "/staff",
        {"name": "Crash Clerk", "role": "ar_clerk"},
        use_case="functions/accounts/create_staff.py",
    )

    # Then the retry answers the staff member the first attempt registered, registered once
    assert retried.status == 201, retried.body
    staff_id = retried.body["staff"]["id"]
    named = [p for p in entities(world, "Principal") if p["name"] == "Crash Clerk"]
    assert [p["principal_id"] for p in named] == [staff_id]
    # with one key, whose secret is the one answered; the first attempt's opens nothing
    lost, answered = secrets[0], secrets[-1]  # the first attempt's, the retry's last
    assert retried.body["api_key"]["secret"] == answered
    [key] = _keys_of(world, staff_id)
    assert key["pk"] == f"APIKEY#{hash_key(answered)}" and key["role"] == "ar_clerk"
    assert _reads(client, lost) == 401 and _reads(client, answered) == 200


# --- orders, payments, invoices, collections, accounts ---------------------------------------


def test_a_shipment_recorded_before_a_crash_is_not_recorded_again_by_the_retry(
    client: Client, world: World
):
    # Given a confirmed order with units left to ship after the first shipment
    order = placed(client, world)
    shipment = {
        "carrier": "DHL",
        "tracking_number": "JD0001",
        "lines": [{"line_no": 1, "quantity": 1}],
    }

    # When the Lambda dies right after the shipment's transaction, and the 3PL retries
    retried = _crash_then_retry(
        client,
        f"/orders/{order['id']}/shipments",
        shipment,
        use_case="functions/orders/ship_order.py",
    )

    # Then it gets the shipment the first attempt recorded, and one unit left the warehouse
    assert retried.status == 201, retried.body
    recorded = entities(world, "Shipment")
    assert [item["shipment_id"] for item in recorded] == [retried.body["shipment"]["shipment_id"]]
    assert orders.get(order["id"]).lines[0].shipped == 1  # type: ignore[union-attr]


def test_an_order_closed_before_a_crash_is_the_answer_to_the_retry(client: Client, world: World):
    # Given a partly shipped order
    order = placed(client, world)
    ship(client, world, order["id"], [(1, 2)])

    # When the Lambda dies right after the closing's transaction, and the partner retries
    retried = _crash_then_retry(
        client,
        f"/orders/{order['id']}/close",
        {"reason": "no longer needed"},
        use_case="functions/orders/close_order.py",
    )

    # Then it gets the closed order, closed once
    assert retried.status == 200, retried.body
    assert retried.body["status"] == "closed"
    assert retried.body == call(client, "GET", f"/orders/{order['id']}").body
    closings = [e for e in entities(world, "Event") if e["detail_type"] == "OrderClosed"]
    assert len(closings) == 1


def test_a_cheque_recorded_before_a_crash_is_the_answer_to_the_retry(client: Client, world: World):
    # When the Lambda dies right after the payment's transaction, and the clerk's client retries
    retried = _crash_then_retry(
        client, "/payments", cheque(), use_case="functions/payments/record_manual_payment.py"
    )

    # Then the retry gets the payment (not "duplicate-payment"), recorded once
    assert retried.status == 201, retried.body
    assert [item["payment_id"] for item in entities(world, "Payment")] == [retried.body["id"]]


def test_a_credit_note_issued_before_a_crash_is_not_issued_again_by_the_retry(
    client: Client, world: World
):
    # Given an invoice with a line of several units
    order = placed(client, world)
    ship(client, world, order["id"], [(1, order["lines"][0]["quantity"])])
    [invoice] = documents(world)
    body = {"reason": "damaged", "lines": [{"line_no": 1, "quantity": "1"}]}

    # When the Lambda dies right after the note's transaction, and the clerk's client retries
    retried = _crash_then_retry(
        client,
        f"/invoices/{invoice['id']}/credit-notes",
        body,
        use_case="functions/invoicing/credit_notes.py",
    )

    # Then the retry gets the note the first attempt issued, and the invoice is credited once
    assert retried.status == 201, retried.body
    assert [note["id"] for note in documents(world, "credit_note")] == [retried.body["id"]]
    [credited] = documents(world)
    assert credited["credited_quantities"] == {"1": "1"}


def test_shipments_are_listed_in_the_order_they_were_recorded_whatever_their_ids(world: World):
    # Given two shipments in the same millisecond, the later one with the smaller id
    order = orders.get(_placed_order_id(world))
    assert order is not None
    moment = datetime(2026, 11, 2, 6, tzinfo=UTC)
    recorded = []
    for version, shipment_id in ((order.version + 1, "shp_Z"), (order.version + 2, "shp_A")):
        shipment = Shipment(
            shipment_id=shipment_id,
            carrier="DHL",
            tracking_number=shipment_id,
            shipped_at=moment,
            lines=(ShipmentLine(line_no=1, sku=order.lines[0].sku, quantity=1),),
        )
        shipped = order.model_copy(update={"version": version})
        table.transact([orders.shipment_record(shipped, shipment)])
        recorded.append(shipment_id)

    # Then invoicing reads them in that order (its releases telescope over it)
    assert [shipment.shipment_id for shipment in orders.shipments(order.order_id)] == recorded


def _placed_order_id(world: World) -> str:
    with Client(app_module.app, stage_name="dev") as client:
        response = post_order(client, order_body(purchase_order="PO-ORDERED"))
    assert response.status_code == 201, response.body
    return str(json.loads(response.body)["id"])


def test_a_promise_recorded_before_a_crash_is_not_recorded_again_by_the_retry(
    client: Client, world: World
):
    # Given an open invoice
    order = placed(client, world)
    ship(client, world, order["id"], [(1, 1)])
    [invoice] = documents(world)
    promised_on = (clock.now() + timedelta(days=7)).date().isoformat()

    # When the Lambda dies right after the promise's transaction, and the client retries
    retried = _crash_then_retry(
        client,
        f"/invoices/{invoice['id']}/promises",
        {"promised_on": promised_on, "amount": "10.00"},
        use_case="functions/dunning/promises.py",
    )

    # Then the retry gets the promise the first attempt recorded, recorded once
    assert retried.status == 201, retried.body
    recorded = entities(world, "PromiseToPay")
    assert [item["promise_id"] for item in recorded] == [retried.body["promise_id"]]


def test_a_customer_opened_before_a_crash_is_not_opened_again_by_the_retry(
    client: Client, world: World
):
    # When the Lambda dies right after the account's transaction, and the client retries
    retried = _crash_then_retry(
        client, "/customers", customer_body(), use_case="functions/accounts/create_customer.py"
    )

    # Then the retry gets the account the first attempt opened, opened once
    assert retried.status == 201, retried.body
    opened = [item for item in entities(world, "Customer") if item["legal_name"] == "Initech SARL"]
    assert [item["customer_id"] for item in opened] == [retried.body["id"]]
