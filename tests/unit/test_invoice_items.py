"""How invoices, ledger entries and series counters map onto the single table (no AWS)."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from functions.invoicing.credit_notes import CreditNoteRequest
from functions.invoicing.issue_invoice import ShippedGoods, released_exposure
from infra.local.seed import DEMO_CUSTOMERS
from shared.adapters.bus_events import BusEvent
from shared.domain import invoice as invoice_domain
from shared.domain import ledger as ledger_domain
from shared.domain.customer import CustomerPatch, CustomerRequest
from shared.domain.imports import ReceivableRow
from shared.domain.invoice import DocumentKind, Invoice, InvoiceStatus
from shared.domain.order import Order, OrderLine, OrderStatus, Shipment, ShipmentLine
from shared.domain.seller import DEMO
from shared.store import customers, imports, invoices, series, table
from shared.store import ledger as ledger_store

ISSUED_AT = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)
ACME = DEMO_CUSTOMERS[0]


def _order(*lines: tuple[str, str, int, str]) -> Order:
    """An order of (sku, tax category, quantity, unit price) lines."""
    return Order(
        order_id="ord_1",
        placed_by="prt_demo",
        customer_id=ACME.customer_id,
        currency="EUR",
        purchase_order="PO-1",
        lines=tuple(
            OrderLine(
                line_no=number,
                sku=sku,
                name=sku.title(),
                unit="EA",
                tax_category=category,
                quantity=quantity,
                unit_price=Decimal(price),
                line_total=(Decimal(price) * quantity).quantize(Decimal("0.01")),
            )
            for number, (sku, category, quantity, price) in enumerate(lines, start=1)
        ),
        total=Decimal(0),
        status=OrderStatus.SHIPPED,
        version=4,
        created_at=ISSUED_AT,
        updated_at=ISSUED_AT,
    )


def _invoice() -> Invoice:
    order = _order(("WIDGET-1", "standard", 3, "19.99"), ("GADGET-2", "reduced", 1, "0.125"))
    draft = invoice_domain.draft(
        invoice_id=invoices.invoice_id_for("shp_1"),
        customer=ACME,
        seller=DEMO,
        order=order,
        quantities={1: 3, 2: 1},
        shipment_ids=("shp_1",),
        issued_at=ISSUED_AT,
    )
    return invoice_domain.numbered(draft, 7, DEMO)


def _shipment(shipment_id: str, *lines: tuple[int, int]) -> Shipment:
    return Shipment(
        shipment_id=shipment_id,
        carrier="DHL",
        tracking_number="1",
        shipped_at=ISSUED_AT,
        lines=tuple(ShipmentLine(line_no=n, sku="X", quantity=q) for n, q in lines),
    )


# --- invoices -------------------------------------------------------------------------------


def test_an_open_invoice_item_carries_its_listing_and_collection_keys_and_reads_back_equal():
    # Given an issued invoice
    invoice = _invoice()

    # When it is mapped to its item
    item = invoices.to_item(invoice)

    # Then it is keyed by id, listed per customer and per status, and open for collections
    assert (item["pk"], item["sk"]) == (f"INVOICE#{invoice.invoice_id}", "INVOICE")
    assert item["gsi1pk"] == "CUSTOMER#cus_acme"
    assert item["gsi1sk"] == f"INVOICE#2026-03-02#{invoice.invoice_id}"
    assert item["gsi2pk"] == "INVOICESTATUS#open"
    assert item["gsi2sk"] == f"2026-04-01#{invoice.invoice_id}"
    assert (item["open_due_pk"], item["open_due_sk"]) == (
        "OPEN",
        "2026-04-01#cus_acme#INV-2026-000007",
    )
    assert item["total"] == item["amount_due"] == Decimal("71.50") and item["version"] == 1
    # and the document, stored compressed, reads back from the table as the same invoice
    stored = table.from_dynamo(table.to_dynamo(item))
    assert invoices.from_item(stored) == invoice
    assert json.loads(stored["document"]) == invoice.to_wire()
    assert len(table.to_dynamo(item)["document"]["B"]) < len(stored["document"])


@pytest.mark.parametrize(
    "status", [InvoiceStatus.PAID, InvoiceStatus.CREDITED], ids=["paid", "credited"]
)
def test_a_settled_invoice_leaves_the_collections_index(status):
    settled = _invoice().model_copy(update={"status": status})

    item = invoices.to_item(settled)

    assert "open_due_pk" not in item and "open_due_sk" not in item
    assert item["gsi2pk"] == f"INVOICESTATUS#{status.value}"


def test_a_credit_note_is_an_invoice_item_listed_by_issue_date_and_never_open():
    # Given a credit note for one widget
    invoice = _invoice()
    draft = invoice_domain.credit_note(
        invoice,
        credit_note_id="cn_1",
        quantities={1: Decimal(1)},
        reason="damaged",
        issued_at=ISSUED_AT,
    )
    note = invoice_domain.numbered(draft, 1, DEMO)

    # When it is mapped
    item = invoices.to_item(note)

    # Then it has the invoice shape, status issued, by issue date, out of collections
    assert item["kind"] == DocumentKind.CREDIT_NOTE.value and item["number"] == "CN-2026-000001"
    assert item["gsi2pk"] == "INVOICESTATUS#issued" and item["gsi2sk"] == "2026-03-02#cn_1"
    assert "open_due_pk" not in item
    assert invoices.from_item(table.from_dynamo(table.to_dynamo(item))) == note


def test_invoice_ids_follow_from_what_they_bill():
    first, again = invoices.invoice_id_for("shp_A"), invoices.invoice_id_for("shp_A")
    other = invoices.invoice_id_for(invoices.order_source("ord_A"))

    assert first == again and first != other
    assert first.startswith("inv_") and len(first) == 30 <= invoices.MAX_ID_LENGTH


def test_issue_writes_put_the_invoice_and_one_guard_per_source_all_new():
    invoice = _invoice()

    writes: list[Any] = invoices.issue_writes(invoice, ["ORDER#ord_1", "shp_1"])

    assert [write.item["pk"] for write in writes] == [
        f"INVOICE#{invoice.invoice_id}",
        "INVOICESOURCE#ORDER#ord_1",
        "INVOICESOURCE#shp_1",
    ]
    assert {write.condition for write in writes} == {"attribute_not_exists(pk)"}


def test_a_legacy_invoice_shows_in_summary():
    # Given a receivable imported from the legacy system, 300.00 of 500.00 paid
    row = ReceivableRow(
        customer_id="cus_acme",
        invoice_number="2025-0042",
        currency="EUR",
        issue_date=date(2025, 11, 3),
        due_date=date(2025, 12, 3),
        original_amount=Decimal("500"),
        open_amount=Decimal("200"),
    )
    item = imports.legacy_invoice_item(row, "imp_1", 2)

    # Then the API shows its figures, and the store does not take it for one of its documents
    assert invoices.is_legacy(item)
    assert invoices.wire(item)["amount_paid"] == {"amount": "300.00", "currency": "EUR"}
    assert invoices.wire(item)["amount_due"] == {"amount": "200.00", "currency": "EUR"}
    assert invoices.wire(item)["legacy"] is True


# --- what an invoice releases from the uninvoiced exposure ---------------------------------


def test_releases_telescope_to_the_line_total_however_the_line_ships():
    # Given 3 gadgets at 0.125 (line total 0.375 -> 0.38), shipped one at a time
    order = _order(("GADGET-2", "reduced", 3, "0.125"))
    shipped = [_shipment(f"shp_{n}", (1, 1)) for n in (1, 2, 3)]

    # When each shipment is billed (in any order)
    releases = [released_exposure(order, shipped, {s.shipment_id}) for s in reversed(shipped)]

    # Then each releases its increment of the rounded running total, summing to the line total
    assert releases == [Decimal("0.13"), Decimal("0.12"), Decimal("0.13")]
    assert sum(releases) == Decimal("0.38")
    assert released_exposure(order, shipped, {"shp_1", "shp_2", "shp_3"}) == Decimal("0.38")


# --- the ledger -------------------------------------------------------------------------------


def test_a_journal_entry_item_sorts_by_time_in_its_customers_partition_and_reads_back():
    entry = ledger_domain.for_invoice(_invoice())

    item = ledger_store.to_item(entry)
    writes: list[Any] = ledger_store.post(entry)

    assert item["pk"] == "LEDGER#cus_acme"
    assert item["sk"] == f"ENTRY#2026-03-02T09:30:00.000Z#invoice:{_invoice().invoice_id}"
    assert ledger_store.from_item(item) == entry
    guard = writes[1]
    assert (guard.item["pk"], guard.item["sk"]) == (f"LEDGERENTRY#{entry.entry_id}", "ENTRY")
    assert {write.condition for write in writes} == {"attribute_not_exists(pk)"}


# --- series counters --------------------------------------------------------------------------


def test_the_first_number_creates_the_counter_and_later_ones_expect_the_last(monkeypatch):
    stored: dict[str, Any] = {}
    monkeypatch.setattr(series.table, "get", lambda pk, sk, consistent=True: stored.get(pk))

    first, create = series.next_write("ACME", "INV-2026")
    stored["SERIES#ACME#INV-2026"] = {"last": Decimal(41)}
    later, advance = series.next_write("ACME", "INV-2026")

    assert (first, create.key) == (1, ("SERIES#ACME#INV-2026", "COUNTER"))
    assert create.condition == "attribute_not_exists(pk)" and create.values[":next"] == 1
    assert later == 42 and advance.condition == "#last = :current"
    assert (advance.values[":current"], advance.values[":next"]) == (41, 42)


# --- the customer's invoicing setting ---------------------------------------------------------


def test_customers_are_invoiced_per_shipment_unless_they_say_otherwise():
    # Given an account stored before the setting existed
    item = customers.to_item(ACME)
    del item["invoicing"]

    # Then it reads as per shipment, as new accounts default to
    assert customers.from_item(item).invoicing == "per_shipment"
    request = CustomerRequest.model_validate(
        {
            "legal_name": "X",
            "billing_email": "x@x.example",
            "currency": "EUR",
            "billing_address": {"line1": "a", "city": "b", "postal_code": "1", "country": "DE"},
        }
    )
    assert request.invoicing == "per_shipment"
    assert ACME.model_copy(update={"invoicing": "per_order"}).to_wire()["invoicing"] == "per_order"


@pytest.mark.parametrize("value", [None, "monthly"])
def test_the_invoicing_setting_cannot_be_null_or_unknown(value):
    with pytest.raises(ValidationError) as error:
        CustomerPatch.model_validate({"version": 1, "invoicing": value})
    assert [item["loc"][0] for item in error.value.errors()] == ["invoicing"]


# --- credit note requests ---------------------------------------------------------------------


def test_a_credit_note_request_names_quantities_per_invoice_line_or_credits_everything():
    partial = CreditNoteRequest.model_validate(
        {"reason": " damaged ", "lines": [{"line_no": 2, "quantity": "1.5"}]}
    )
    full = CreditNoteRequest.model_validate({"reason": "returned"})

    assert partial.reason == "damaged" and partial.quantities() == {2: Decimal("1.5")}
    assert full.quantities() is None


# --- the sample event -------------------------------------------------------------------------


def test_the_issuance_sample_batch_holds_an_order_shipped_event_the_consumer_parses():
    sample = Path(__file__).resolve().parents[2] / "events" / "sqs" / "invoice-issuance-batch.json"
    [record] = json.loads(sample.read_text())["Records"]

    event = BusEvent.model_validate_json(record["body"])
    shipped = ShippedGoods.model_validate(event.detail.data["shipment"])

    assert event.detail_type == "OrderShipped" and event.source == "otc.orders"
    assert record["eventSourceARN"].endswith(":otc-dev-invoice-issuance")
    assert shipped.shipment_id.startswith("shp_") and shipped.lines
