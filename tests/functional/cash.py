"""Steps the cash-application tests share: invoices to pay, payments received, what they became."""

from __future__ import annotations

import json
import uuid
from datetime import datetime
from decimal import Decimal
from typing import Any

from chalice.test import Client

import app as app_module
from infra.local.pump import LambdaContext
from shared import clock
from shared.domain import ledger as ledger_domain
from shared.domain import payment as payment_domain
from shared.domain.invoice import Invoice
from shared.domain.payment import Payment
from shared.store import invoices, payments
from shared.store import ledger as ledger_store
from tests.functional.accounts import Answer, call
from tests.functional.conftest import ADMIN_KEY, World
from tests.functional.invoicing import placed, ship
from tests.functional.order_events import sqs_batch

CUSTOMER = "cus_acme"  # EUR, 2/10 net 30


def issued_invoice(client: Client, world: World, **order: Any) -> Invoice:
    """An invoice for a whole order of the customer (placed, confirmed, shipped, invoiced)."""
    confirmed = placed(client, world, **order)
    ship(
        client,
        world,
        confirmed["id"],
        [(line["line_no"], line["quantity"]) for line in confirmed["lines"]],
    )
    [found] = [
        invoice
        for invoice in (invoices.from_item(item) for item in _invoice_items(world))
        if invoice.order_id == confirmed["id"]
    ]
    return found


def _invoice_items(world: World) -> list[dict[str, Any]]:
    return [
        item
        for item in world.table_items()
        if item.get("entity") == "Invoice" and "document" in item and item["kind"] == "invoice"
    ]


def received(
    amount: str,
    *,
    customer_id: str | None = None,
    currency: str = "EUR",
    metadata: dict[str, str] | None = None,
    remittance: str | None = None,
    payer_name: str | None = None,
    payer_account: str | None = None,
    received_at: datetime | None = None,
    source: str = "bank",
) -> Payment:
    """A payment as intake stores it (with ``PaymentReceived``); the pump has not run yet."""
    payment = payment_domain.receive(
        source=source,
        external_id=f"ref-{uuid.uuid4().hex[:12]}",
        method="bank_transfer",
        amount=Decimal(amount),
        currency=currency,
        received_at=received_at or clock.now(),
        payer_name=payer_name,
        payer_account=payer_account,
        remittance=remittance,
        metadata=metadata,
        customer_id=customer_id,
    )
    payments.receive(payment)
    return payment


def paid_in(world: World, amount: str, **facts: Any) -> Payment:
    """A payment received and run through cash application (the workers have run)."""
    payment = received(amount, **facts)
    world.pump.drain()
    return payment_now(payment.payment_id)


def payment_now(payment_id: str) -> Payment:
    found = payments.get(payment_id)
    assert found is not None
    return found


def invoice_now(invoice_id: str) -> Invoice:
    found = invoices.get(invoice_id)
    assert found is not None
    return found


def event_data(world: World, detail_type: str) -> list[dict[str, Any]]:
    return [
        json.loads(item["detail"])["data"]
        for item in world.table_items()
        if item.get("entity") == "Event" and item["detail_type"] == detail_type
    ]


def bus_body(world: World, detail_type: str, aggregate_id: str) -> str:
    """The SQS body (an EventBridge envelope) of the stored event of that type and aggregate."""
    [item] = [
        item
        for item in world.table_items()
        if item.get("entity") == "Event"
        and item["detail_type"] == detail_type
        and item["aggregate_id"] == aggregate_id
    ]
    return json.dumps(
        {
            "version": "0",
            "id": str(uuid.uuid4()),
            "detail-type": detail_type,
            "source": item["source"],
            "account": "123456789012",
            "time": item["occurred_at"],
            "region": "us-east-1",
            "resources": [],
            "detail": json.loads(item["detail"]),
        }
    )


def deliver_to_cash_application(bodies: list[str]) -> dict[str, Any]:
    """Hand a batch to the cash-application consumer as Lambda would."""
    answer: dict[str, Any] = app_module.apply_cash(
        sqs_batch(bodies, queue="otc-local-cash-application"), LambdaContext("apply_cash")
    )
    return answer


def ledger_entries(customer_id: str) -> list[ledger_domain.JournalEntry]:
    return ledger_store.entries_for(customer_id)


def account(customer_id: str, name: ledger_domain.Account) -> Decimal:
    """The customer's balance on one account, debit-positive."""
    return ledger_domain.balances(ledger_entries(customer_id))[name]


def allocate(client: Client, payment_id: str, body: Any, *, key: str | None = ADMIN_KEY) -> Answer:
    return call(client, "POST", f"/payments/{payment_id}/allocations", key=key, body=body)


def reverse(
    client: Client, payment_id: str, allocation_id: str, reason: str = "wrong invoice"
) -> Answer:
    return call(
        client,
        "POST",
        f"/payments/{payment_id}/allocations/{allocation_id}/reversal",
        body={"reason": reason},
    )


def consumed_markers(world: World) -> list[dict[str, Any]]:
    return [item for item in world.table_items() if item["pk"].startswith("CONSUMED#cash-app")]
