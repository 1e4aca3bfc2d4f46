"""Steps the invoicing tests share: place, ship and invoice orders; read invoices and the ledger."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from chalice.test import Client

import app as app_module
from infra.local.pump import LambdaContext
from shared import clock
from shared.domain import ledger as ledger_domain
from shared.domain.imports import ReceivableRow
from shared.store import credit, imports, table
from shared.store import ledger as ledger_store
from shared.store.table import Put
from tests.functional.accounts import Answer, call, create_customer
from tests.functional.conftest import ADMIN_KEY, World, order_body, post_order
from tests.functional.order_events import sqs_batch


def placed(client: Client, world: World, **overrides: Any) -> dict[str, Any]:
    """A confirmed order (the confirmation worker has run)."""
    response = post_order(client, order_body(**overrides), key=ADMIN_KEY)
    assert response.status_code == 201, response.body
    world.pump.drain()
    order: dict[str, Any] = call(client, "GET", f"/orders/{json.loads(response.body)['id']}").body
    assert order["status"] == "confirmed", order
    return order


def ship(
    client: Client, world: World, order_id: str, lines: list[tuple[int, int]], *, drain: bool = True
) -> dict[str, Any]:
    """Ship ``(line_no, quantity)`` of the order; with ``drain``, the workers (invoicing) run."""
    body = {
        "carrier": "DHL",
        "tracking_number": f"JD{uuid.uuid4().hex[:10]}",
        "lines": [{"line_no": line_no, "quantity": quantity} for line_no, quantity in lines],
    }
    answer = call(client, "POST", f"/orders/{order_id}/shipments", body=body)
    assert answer.status == 201, answer.body
    if drain:
        world.pump.drain()
    shipment: dict[str, Any] = answer.body["shipment"]
    return shipment


def invoice_items(world: World, kind: str | None = None) -> list[dict[str, Any]]:
    """Invoice items this system issued (not legacy ones), oldest number first."""
    found = [
        item
        for item in world.table_items()
        if item.get("entity") == "Invoice" and "document" in item and kind in (None, item["kind"])
    ]
    return sorted(found, key=lambda item: item["number"])


def documents(world: World, kind: str | None = "invoice") -> list[dict[str, Any]]:
    """The wire form of every issued document of ``kind``, by number."""
    return [json.loads(item["document"]) for item in invoice_items(world, kind)]


def entities(world: World, entity: str) -> list[dict[str, Any]]:
    return [item for item in world.table_items() if item.get("entity") == entity]


def event_data(world: World, detail_type: str) -> list[dict[str, Any]]:
    return [
        json.loads(item["detail"])["data"]
        for item in entities(world, "Event")
        if item["detail_type"] == detail_type
    ]


def amount(money: dict[str, str]) -> Decimal:
    return Decimal(money["amount"])


def assert_ledger_balanced(customer_id: str) -> None:
    """Every entry of the customer balances, and so does the whole ledger."""
    entries = ledger_store.entries_for(customer_id)
    for entry in entries:
        assert sum(p.debit for p in entry.postings) == sum(p.credit for p in entry.postings)
    assert sum(ledger_domain.balances(entries).values()) == 0


def exposure(customer_id: str) -> credit.CreditExposure:
    figures = credit.get_exposure(customer_id)
    assert figures is not None
    return figures


def order_shipped_body(world: World, shipment_id: str) -> str:
    """The SQS body (an EventBridge envelope) of the OrderShipped event of that shipment."""
    [event] = [
        item
        for item in entities(world, "Event")
        if item["detail_type"] == "OrderShipped"
        and json.loads(item["detail"])["data"]["shipment"]["shipment_id"] == shipment_id
    ]
    return json.dumps(
        {
            "version": "0",
            "id": str(uuid.uuid4()),
            "detail-type": "OrderShipped",
            "source": "otc.orders",
            "account": "123456789012",
            "time": "2026-11-23T10:15:00Z",
            "region": "us-east-1",
            "resources": [],
            "detail": json.loads(event["detail"]),
        }
    )


def deliver_to_issuance(bodies: list[str]) -> dict[str, Any]:
    """Hand a batch to the invoice-issuance consumer as Lambda would."""
    answer: dict[str, Any] = app_module.issue_invoices(
        sqs_batch(bodies, queue="otc-local-invoice-issuance"), LambdaContext("issue_invoices")
    )
    return answer


def eu_business_customer(client: Client, **overrides: Any) -> dict[str, Any]:
    """A French company with a VAT id: goods the German demo seller sends it are an
    intra-community supply (K), services are reverse charged (AE)."""
    return create_customer(
        client,
        tax_id="FR40303265045",
        credit_limit="10000.00",
        **overrides,
    )


def credit_note(
    client: Client,
    invoice_id: str,
    body: Any,
    *,
    key: str | None = ADMIN_KEY,
    idempotency_key: str | None = None,
) -> Answer:
    return call(
        client,
        "POST",
        f"/invoices/{invoice_id}/credit-notes",
        key=key,
        body=body,
        idempotency_key=idempotency_key,
    )


def legacy_invoice(
    customer_id: str,
    number: str,
    *,
    issued: str = "2025-11-03",
    due: str = "2025-12-03",
    original: str = "500.00",
    still_open: str = "200.00",
) -> str:
    """An open invoice as a receivables import lands it; returns its id."""
    row = ReceivableRow(
        customer_id=customer_id,
        invoice_number=number,
        currency="EUR",
        issue_date=date.fromisoformat(issued),
        due_date=date.fromisoformat(due),
        original_amount=Decimal(original),
        open_amount=Decimal(still_open),
    )
    item = imports.legacy_invoice_item(row, "imp_test", 2)
    table.transact([Put.new(item)])
    invoice_id: str = item["invoice_id"]
    return invoice_id


def acme_owes_two_legacy_invoices() -> None:
    """Imported on 2026-11-02 (the clock is left there): ACME's 1000.00 due 2026-10-15 and
    250.00 due 2026-12-15."""
    clock.set_clock(lambda: datetime(2026, 11, 2, 9, tzinfo=UTC))
    legacy_invoice(
        "cus_acme", "L-1", issued="2026-09-15", due="2026-10-15", original="1000.00",
        still_open="1000.00",
    )  # fmt: skip
    legacy_invoice(
        "cus_acme", "L-2", issued="2026-11-01", due="2026-12-15", original="250.00",
        still_open="250.00",
    )  # fmt: skip


def import_receivables(client: Client, world: World, content: str) -> str:
    """POST a receivables CSV to the import API and let the workers run: the import's id."""
    response = client.http.post(
        "/imports/receivables",
        headers={
            "Content-Type": "text/csv",
            "X-Api-Key": ADMIN_KEY,
            "Idempotency-Key": str(uuid.uuid4()),
        },
        body=content,
    )
    assert response.status_code == 202, response.body
    world.pump.drain()
    import_id: str = json.loads(response.body)["import_id"]
    return import_id


def stored_xml(world: World, document: dict[str, Any]) -> bytes:
    """The UBL the delivery worker stored for an issued document."""
    key = f"invoices/{document['customer_id']}/{document['number']}.xml"
    body = world.session.client("s3").get_object(
        Bucket=world.outputs["DocumentsBucketName"], Key=key
    )["Body"]
    content: bytes = body.read()
    return content
