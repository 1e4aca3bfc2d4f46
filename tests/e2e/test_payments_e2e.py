"""Order -> invoice -> a Stripe-signed card payment over real HTTP -> the invoice is paid."""

from __future__ import annotations

import json
import time
import uuid
from decimal import Decimal
from typing import Any

import pytest
import stripe

from infra.local.stack import DEMO_WEBHOOK_SECRETS
from tests.e2e.conftest import PARTNER_KEY, Answer, LocalStack
from tests.e2e.test_local_stack import order_body, post_order, wait_for_status

pytestmark = pytest.mark.e2e

TIMEOUT_SECONDS = 30.0


def _get(stack: LocalStack, path: str) -> Answer:
    return stack.request("GET", path, headers={"X-Api-Key": PARTNER_KEY})


def _wait(stack: LocalStack, path: str, ready: Any) -> Any:
    """GET ``path`` until ``ready(answer)`` holds; the workers run on the pump's schedule."""
    deadline = time.monotonic() + TIMEOUT_SECONDS
    answer = _get(stack, path)
    while time.monotonic() < deadline:
        answer = _get(stack, path)
        if ready(answer):
            return answer.json()
        time.sleep(0.2)
    pytest.fail(f"GET {path} still answers {answer.status} {answer.body[:300]!r}")


def _payment_intent_succeeded(invoice: dict[str, Any]) -> bytes:
    """A Stripe ``payment_intent.succeeded`` whose metadata names the invoice."""
    cents = int(Decimal(invoice["total"]["amount"]) * 100)
    intent_id = f"pi_e2e{uuid.uuid4().hex[:16]}"
    metadata = {"invoice_number": invoice["number"]}
    event = {
        "id": f"evt_e2e{uuid.uuid4().hex[:16]}",
        "object": "event",
        "api_version": "2024-06-20",
        "created": int(time.time()),
        "type": "payment_intent.succeeded",
        "livemode": False,
        "data": {
            "object": {
                "id": intent_id,
                "object": "payment_intent",
                "amount": cents,
                "amount_received": cents,
                "currency": invoice["currency"].lower(),
                "created": int(time.time()) - 5,
                "metadata": metadata,
                "latest_charge": f"ch_e2e{uuid.uuid4().hex[:16]}",
                "payment_method_types": ["card"],
                "status": "succeeded",
            }
        },
    }
    return json.dumps(event, indent=2).encode()


def test_a_card_payment_naming_the_invoice_pays_it(local_stack: LocalStack):
    # Given an invoice for a shipped order
    placed = post_order(local_stack, order_body(purchase_order="PO-E2E-PAY"))
    assert placed.status == 201, placed.body
    order = wait_for_status(local_stack, placed.json()["id"], "confirmed")
    lines = [{"line_no": line["line_no"], "quantity": line["reserved"]} for line in order["lines"]]
    shipped = local_stack.request(
        "POST",
        f"/orders/{order['id']}/shipments",
        body=json.dumps({"carrier": "DHL", "tracking_number": "E2E-PAY", "lines": lines}).encode(),
        headers={
            "Content-Type": "application/json",
            "X-Api-Key": PARTNER_KEY,
            "Idempotency-Key": str(uuid.uuid4()),
        },
    )
    assert shipped.status == 201, shipped.body
    listed = _wait(
        local_stack,
        f"/invoices?customer_id={order['customer_id']}&limit=100",
        lambda a: (
            a.status == 200 and any(i["order_id"] == order["id"] for i in a.json()["invoices"])
        ),
    )
    [invoice] = [i for i in listed["invoices"] if i["order_id"] == order["id"]]
    assert invoice["status"] == "open"

    # When Stripe posts the payment, signed with the stack's webhook secret
    body = _payment_intent_succeeded(invoice)
    signature = stripe.WebhookSignature.generate_signature_header(
        body.decode(), DEMO_WEBHOOK_SECRETS["stripe"]
    )
    answer = local_stack.request(
        "POST",
        "/webhooks/stripe",
        body=body,
        headers={"Content-Type": "application/json", "Stripe-Signature": signature},
    )
    assert answer.status == 200, answer.body

    # Then cash application pays the invoice
    paid = _wait(
        local_stack,
        f"/invoices/{invoice['id']}",
        lambda a: a.status == 200 and a.json()["status"] == "paid",
    )
    assert paid["amount_due"]["amount"] in ("0", "0.00")
    assert paid["amount_paid"] == invoice["total"]
