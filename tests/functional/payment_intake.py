"""Steps the payments intake tests share: gateway payloads signed as the gateways sign them,
statement files, and views of the payments, guards and objects written."""

from __future__ import annotations

import json
import time
import uuid
from decimal import Decimal
from pathlib import Path
from typing import Any

import stripe
from chalice.test import Client

from infra.local.stack import DEMO_WEBHOOK_SECRETS
from shared.domain import webhooks
from tests.functional.conftest import World

STRIPE_SECRET = DEMO_WEBHOOK_SECRETS["stripe"]
DEMO_PAY_SECRET = DEMO_WEBHOOK_SECRETS["demo-pay"]
STATEMENT = Path(__file__).resolve().parents[2] / "events" / "camt053" / "statement.xml"


# --- Stripe ---------------------------------------------------------------------------------------


def stripe_event(event_type: str, obj: dict[str, Any], *, event_id: str | None = None) -> bytes:
    """A Stripe event as Stripe POSTs it (pretty-printed JSON, as Stripe sends it)."""
    event = {
        "id": event_id or f"evt_{uuid.uuid4().hex[:24]}",
        "object": "event",
        "api_version": "2024-06-20",
        "created": int(time.time()),
        "data": {"object": obj},
        "livemode": False,
        "pending_webhooks": 1,
        "request": {"id": f"req_{uuid.uuid4().hex[:14]}", "idempotency_key": None},
        "type": event_type,
    }
    return json.dumps(event, indent=2).encode()


def payment_intent(
    intent_id: str = "pi_3QAcme0001",
    amount: int = 119000,
    currency: str = "eur",
    metadata: dict[str, str] | None = None,
    payer: str | None = "ACME Retail GmbH",
) -> dict[str, Any]:
    """A succeeded PaymentIntent (with its charge embedded, as older API versions send it)."""
    charges = [_charge_object("ch_3QAcme0001", intent_id, amount, currency, metadata, payer)]
    return {
        "id": intent_id,
        "object": "payment_intent",
        "amount": amount,
        "amount_received": amount,
        "currency": currency,
        "created": int(time.time()) - 5,
        "customer": "cus_StripeAcme",
        "description": "Invoice INV-2026-000017",
        "latest_charge": charges[0]["id"],
        "charges": {"object": "list", "data": charges},
        "metadata": metadata if metadata is not None else _metadata(),
        "payment_method_types": ["card"],
        "status": "succeeded",
    }


def charge(
    charge_id: str = "ch_3QAcme0001",
    intent_id: str | None = "pi_3QAcme0001",
    amount: int = 119000,
    currency: str = "eur",
    metadata: dict[str, str] | None = None,
    payer: str | None = "ACME Retail GmbH",
    amount_refunded: int = 0,
) -> dict[str, Any]:
    obj = _charge_object(charge_id, intent_id, amount, currency, metadata, payer)
    obj["amount_refunded"] = amount_refunded
    obj["refunded"] = amount_refunded == amount
    return obj


def dispute(
    status: str = "needs_response", *, dispute_id: str = "dp_1QAcme0001", amount: int = 119000
) -> dict[str, Any]:
    return {
        "id": dispute_id,
        "object": "dispute",
        "amount": amount,
        "currency": "eur",
        "charge": "ch_3QAcme0001",
        "payment_intent": "pi_3QAcme0001",
        "reason": "fraudulent",
        "status": status,
        "created": int(time.time()),
    }


def _charge_object(
    charge_id: str,
    intent_id: str | None,
    amount: int,
    currency: str,
    metadata: dict[str, str] | None,
    payer: str | None,
) -> dict[str, Any]:
    return {
        "id": charge_id,
        "object": "charge",
        "amount": amount,
        "amount_captured": amount,
        "amount_refunded": 0,
        "captured": True,
        "paid": True,
        "currency": currency,
        "created": int(time.time()) - 5,
        "customer": "cus_StripeAcme",
        "billing_details": {"name": payer, "email": "ap@acme.example"},
        "description": "Invoice INV-2026-000017",
        "calculated_statement_descriptor": "ACME INDUSTRIAL",
        "metadata": metadata if metadata is not None else _metadata(),
        "payment_intent": intent_id,
        "payment_method_details": {"type": "card", "card": {"brand": "visa", "last4": "4242"}},
        "status": "succeeded",
    }


def _metadata() -> dict[str, str]:
    return {"invoice_number": "INV-2026-000017", "customer_id": "cus_acme"}


def stripe_signature(body: bytes, secret: str = STRIPE_SECRET, timestamp: int | None = None) -> str:
    """The Stripe-Signature header, computed by Stripe's own library."""
    return str(stripe.WebhookSignature.generate_signature_header(body.decode(), secret, timestamp))


def post_stripe(client: Client, body: bytes, headers: dict[str, str] | None = None) -> Any:
    """POST a delivery; signed with the stack's secret unless ``headers`` say otherwise."""
    sent = {"Content-Type": "application/json; charset=utf-8", "User-Agent": "Stripe/1.0"}
    sent |= headers if headers is not None else {"Stripe-Signature": stripe_signature(body)}
    return client.http.post("/webhooks/stripe", headers=sent, body=body)


# --- generic providers ----------------------------------------------------------------------------


def generic_event(
    event_type: str = "payment.succeeded",
    *,
    event_id: str | None = None,
    payment_id: str = "dp_pay_0001",
    amount: str = "250.00",
    currency: str = "EUR",
    **data: Any,
) -> bytes:
    body = {
        "id": event_id or f"dpe_{uuid.uuid4().hex[:20]}",
        "type": event_type,
        "created": int(time.time()),
        "data": {"payment_id": payment_id, "amount": amount, "currency": currency, **data},
    }
    return json.dumps(body).encode()


def post_generic(
    client: Client,
    provider: str,
    body: bytes,
    *,
    secret: str = DEMO_PAY_SECRET,
    timestamp: int | None = None,
    headers: dict[str, str] | None = None,
) -> Any:
    sent = {"Content-Type": "application/json"}
    if headers is None:
        moment = timestamp if timestamp is not None else int(time.time())
        sent["Webhook-Signature"] = webhooks.signature_header(secret, moment, body)
    else:
        sent |= headers
    return client.http.post(f"/webhooks/{provider}", headers=sent, body=body)


# --- what was written -----------------------------------------------------------------------------


def payment_items(world: World) -> list[dict[str, Any]]:
    return [item for item in world.table_items() if item.get("entity") == "Payment"]


def payments(world: World) -> list[dict[str, Any]]:
    """Every payment's wire form, oldest first."""
    found = [json.loads(item["document"]) for item in payment_items(world)]
    return sorted(found, key=lambda payment: (payment["received_at"], payment["id"]))


def guards(world: World, prefix: str) -> list[dict[str, Any]]:
    return [item for item in world.table_items() if item["pk"].startswith(prefix)]


def event_data(world: World, detail_type: str) -> list[dict[str, Any]]:
    return [
        json.loads(item["detail"])["data"]
        for item in world.table_items()
        if item.get("entity") == "Event" and item["detail_type"] == detail_type
    ]


def objects(world: World, prefix: str) -> dict[str, bytes]:
    """Key -> content of every object under ``prefix`` in the documents bucket."""
    s3 = world.session.client("s3")
    bucket = world.outputs["DocumentsBucketName"]
    listed = s3.list_objects_v2(Bucket=bucket, Prefix=prefix).get("Contents", [])
    return {
        item["Key"]: s3.get_object(Bucket=bucket, Key=item["Key"])["Body"].read() for item in listed
    }


def amount(money: dict[str, str]) -> Decimal:
    return Decimal(money["amount"])
