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
from tests.e2e.conftest import LocalStack
from tests.e2e.invoiced import shipped_and_invoiced, wait_for

pytestmark = pytest.mark.e2e


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
    _order, invoice = shipped_and_invoiced(local_stack, "PO-E2E-PAY")
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
    paid = wait_for(
        local_stack,
        f"/invoices/{invoice['id']}",
        lambda a: a.status == 200 and a.json()["status"] == "paid",
    )
    assert paid["amount_due"]["amount"] in ("0", "0.00")
    assert paid["amount_paid"] == invoice["total"]
