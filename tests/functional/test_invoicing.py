"""Issuing invoices on OrderShipped: totals and tax, the ledger, credit exposure, exactly once."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from shared import clock
from shared.store import ledger as ledger_store
from shared.store import table
from tests.functional.accounts import call
from tests.functional.conftest import World
from tests.functional.invoicing import (
    amount,
    assert_ledger_balanced,
    deliver_to_issuance,
    documents,
    entities,
    eu_business_customer,
    event_data,
    exposure,
    invoice_items,
    order_shipped_body,
    placed,
    ship,
)


def _zero_rated_item(client) -> None:
    """A zero-rated catalog item (printed matter, say), listed at 4.35 EUR."""
    item = {"name": "Printed manual", "unit": "EA", "tax_category": "zero"}
    assert call(client, "PUT", "/catalog/items/MANUAL-9", body=item).status == 201
    price = call(client, "PUT", "/catalog/items/MANUAL-9/prices/EUR", body={"unit_price": "4.35"})
    assert price.status == 201


def test_a_shipped_order_is_invoiced_once_with_its_tax_mix_and_rounding(world: World, client):
    # Given a confirmed order of standard (19 %), reduced (7 %) and zero-rated lines, one of
    # them priced below a cent per unit
    _zero_rated_item(client)
    order = placed(
        client,
        world,
        lines=[
            {"sku": "WIDGET-1", "quantity": 3},
            {"sku": "GADGET-2", "quantity": 3},
            {"sku": "MANUAL-9", "quantity": 2},
            {"sku": "SERVICE-HOUR", "quantity": 1},
        ],
    )

    # When all of it ships and the workers run
    shipment = ship(client, world, order["id"], [(1, 3), (2, 3), (3, 2), (4, 1)])

    # Then exactly one invoice bills it, numbered first in this year's series
    [invoice] = documents(world)
    year = clock.now().year
    assert invoice["number"] == f"INV-{year}-000001" and invoice["series"] == f"INV-{year}"
    assert invoice["order_id"] == order["id"] and invoice["shipment_ids"] == [
        shipment["shipment_id"]
    ]
    assert invoice["delivered_on"] == shipment["shipped_at"][:10]  # the goods' delivery date
    assert invoice["status"] == "open" and invoice["kind"] == "invoice"
    # each line rounds half-up on its own: 3 x 0.125 = 0.375 -> 0.38
    assert [(line["sku"], line["net_amount"], line["tax_code"], line["tax_rate"]) for line in
            invoice["lines"]] == [
        ("WIDGET-1", "59.97", "S", "19"),
        ("GADGET-2", "0.38", "S", "7"),
        ("MANUAL-9", "8.70", "Z", "0"),
        ("SERVICE-HOUR", "95.00", "S", "19"),
    ]  # fmt: skip
    # tax per group on the group's taxable amount: 154.97 x 19 % = 29.4443 -> 29.44,
    # 0.38 x 7 % = 0.0266 -> 0.03
    assert [
        (group["tax_code"], group["tax_rate"], group["taxable_amount"], group["tax_amount"])
        for group in invoice["taxes"]
    ] == [("S", "19", "154.97", "29.44"), ("S", "7", "0.38", "0.03"), ("Z", "0", "8.70", "0.00")]
    assert invoice["net_total"] == {"amount": "164.05", "currency": "EUR"}
    assert invoice["tax_total"] == {"amount": "29.47", "currency": "EUR"}
    assert invoice["total"] == {"amount": "193.52", "currency": "EUR"}
    assert invoice["amount_due"] == invoice["total"]
    # the customer's terms (2/10 net 30) date it and price paying early
    issued = date.fromisoformat(invoice["issued_on"])
    assert (date.fromisoformat(invoice["due_on"]) - issued).days == 30
    assert invoice["discount_amount"] == {"amount": "3.87", "currency": "EUR"}
    assert invoice["payment_reference"].startswith("RF")
    # and it was announced, and the shipment can never be billed again
    [issued_event] = event_data(world, "InvoiceIssued")
    assert issued_event["id"] == invoice["id"] and issued_event["number"] == invoice["number"]
    [guard] = entities(world, "InvoiceSource")
    assert guard["source"] == shipment["shipment_id"] and guard["invoice_id"] == invoice["id"]


def test_the_ledger_balances_and_the_customer_owes_the_invoice_total(world: World, client):
    # Given a shipped order
    order = placed(client, world)

    # When it is invoiced
    ship(client, world, order["id"], [(1, 3), (2, 1)])

    # Then one balanced entry debits the receivable with the total and credits revenue and VAT
    [invoice] = documents(world)
    [entry] = ledger_store.entries_for("cus_acme")
    postings = {posting.account.value: Decimal(0) for posting in entry.postings}
    for posting in entry.postings:  # revenue and VAT come one posting per tax group
        postings[posting.account.value] += posting.amount
    assert entry.entry_id == f"invoice:{invoice['id']}"
    assert postings["receivables"] == amount(invoice["total"]) == Decimal("71.50")
    assert -postings["revenue"] == amount(invoice["net_total"]) == Decimal("60.10")
    assert -postings["tax_payable"] == amount(invoice["tax_total"]) == Decimal("11.40")
    assert_ledger_balanced("cus_acme")
    assert ledger_store.balance("cus_acme") == Decimal("71.50")


def test_exposure_moves_from_uninvoiced_orders_to_open_receivables_shipment_by_shipment(
    world: World, client
):
    # Given an order of 3 gadgets at 0.125 (its line total 0.38 is what confirmation added)
    order = placed(client, world, lines=[{"sku": "GADGET-2", "quantity": 3}])
    assert exposure("cus_acme").uninvoiced_orders == Decimal("0.38")

    # When its units ship one at a time
    for _ in range(3):
        ship(client, world, order["id"], [(1, 1)])

    # Then three invoices of 0.13 net each bill them, and the releases (0.13, 0.12, 0.13) add up
    # to exactly what the order held: nothing is left uninvoiced, the receivables are the totals
    invoices = documents(world)
    assert [invoice["net_total"]["amount"] for invoice in invoices] == ["0.13", "0.13", "0.13"]
    assert [invoice["number"][-6:] for invoice in invoices] == ["000001", "000002", "000003"]
    figures = exposure("cus_acme")
    assert figures.uninvoiced_orders == 0
    assert figures.open_receivables == sum(amount(invoice["total"]) for invoice in invoices)
    assert figures.headroom == figures.credit_limit - figures.open_receivables
    assert ledger_store.balance("cus_acme") == figures.open_receivables
    assert_ledger_balanced("cus_acme")


def test_per_order_customers_get_one_invoice_after_the_last_shipment_only(world: World, client):
    # Given a customer invoiced per order, and its confirmed order
    customer = call(client, "GET", "/customers/cus_acme").body
    answer = call(
        client,
        "PATCH",
        "/customers/cus_acme",
        body={"version": customer["version"], "invoicing": "per_order"},
    )
    assert answer.status == 200 and answer.body["invoicing"] == "per_order"
    order = placed(client, world)

    # When a first part ships
    first = ship(client, world, order["id"], [(1, 2)])

    # Then nothing is invoiced yet (the event is consumed all the same)
    assert documents(world) == []
    assert exposure("cus_acme").uninvoiced_orders == Decimal("60.10")

    # When the rest ships
    second = ship(client, world, order["id"], [(1, 1), (2, 1)])

    # Then one invoice bills the whole order, both shipments, and releases its whole total
    [invoice] = documents(world)
    assert invoice["shipment_ids"] == [first["shipment_id"], second["shipment_id"]]
    assert invoice["delivered_on"] == max(first["shipped_at"], second["shipped_at"])[:10]
    assert [(line["order_line_no"], line["quantity"]) for line in invoice["lines"]] == [
        (1, "3"),
        (2, "1"),
    ]
    assert invoice["net_total"]["amount"] == "60.10"
    figures = exposure("cus_acme")
    assert figures.uninvoiced_orders == 0 and figures.open_receivables == Decimal("71.50")
    assert {guard["source"] for guard in entities(world, "InvoiceSource")} == {
        f"ORDER#{order['id']}",
        first["shipment_id"],
        second["shipment_id"],
    }

    # and a late redelivery of the first shipment's event bills nothing more
    before = world.table_items()
    assert deliver_to_issuance([order_shipped_body(world, first["shipment_id"])]) == {
        "batchItemFailures": []
    }
    assert len(documents(world)) == 1 and len(world.table_items()) == len(before)


def test_redelivering_the_same_order_shipped_event_changes_nothing(world: World, client):
    # Given an order whose shipment was invoiced
    order = placed(client, world)
    shipment = ship(client, world, order["id"], [(1, 3), (2, 1)])
    body = order_shipped_body(world, shipment["shipment_id"])
    before = sorted(world.table_items(), key=lambda item: (item["pk"], item["sk"]))

    # When the same event arrives again, twice in one batch
    answer = deliver_to_issuance([body, body])

    # Then both messages succeed and nothing is written: one invoice, one ledger entry,
    # the counter at 1, the exposure unchanged
    assert answer == {"batchItemFailures": []}
    after = sorted(world.table_items(), key=lambda item: (item["pk"], item["sk"]))
    assert after == before
    assert len(invoice_items(world)) == 1
    assert len(entities(world, "LedgerEntry")) == 1
    [counter] = entities(world, "SeriesCounter")
    assert counter["last"] == 1


def test_a_consumed_marker_gone_still_never_bills_twice(world: World, client):
    # Given an invoiced shipment whose consumed marker has expired (TTL)
    order = placed(client, world)
    shipment = ship(client, world, order["id"], [(1, 3), (2, 1)])
    [marker] = [i for i in world.table_items() if i["pk"].startswith("CONSUMED#invoice-issuance#")]
    table.delete_many([(marker["pk"], marker["sk"])])

    # When the event is redelivered
    answer = deliver_to_issuance([order_shipped_body(world, shipment["shipment_id"])])

    # Then the source guard holds: still one invoice, one entry, one number
    assert answer == {"batchItemFailures": []}
    assert len(invoice_items(world)) == 1 and len(entities(world, "LedgerEntry")) == 1
    assert entities(world, "SeriesCounter")[0]["last"] == 1


def test_an_eu_business_customer_gets_k_goods_and_ae_services_without_vat(world: World, client):
    # Given a French business customer with a VAT id (the seller is German)
    customer = eu_business_customer(client)

    # When its order of goods and a service hour ships
    order = placed(
        client,
        world,
        customer_id=customer["id"],
        lines=[
            {"sku": "WIDGET-1", "quantity": 3},
            {"sku": "GADGET-2", "quantity": 1},
            {"sku": "SERVICE-HOUR", "quantity": 1},
        ],
    )
    ship(client, world, order["id"], [(1, 3), (2, 1), (3, 1)])

    # Then the goods are an intra-community supply (K) and the service is reverse charged (AE):
    # no VAT, the invoice says why, and it names where the goods went
    [invoice] = documents(world)
    assert invoice["buyer"]["tax_id"] == "FR40303265045"
    assert [(line["sku"], line["tax_code"], line["tax_rate"]) for line in invoice["lines"]] == [
        ("WIDGET-1", "K", "0"),
        ("GADGET-2", "K", "0"),
        ("SERVICE-HOUR", "AE", "0"),
    ]
    groups = {group["tax_code"]: group for group in invoice["taxes"]}
    assert (groups["K"]["taxable_amount"], groups["K"]["tax_amount"]) == ("60.10", "0.00")
    assert (groups["AE"]["taxable_amount"], groups["AE"]["tax_amount"]) == ("95.00", "0.00")
    assert groups["K"]["exemption_reason_code"] == "VATEX-EU-IC"
    assert groups["AE"]["exemption_reason_code"] == "VATEX-EU-AE"
    assert invoice["delivered_to"]["country"] == "FR"
    assert invoice["total"] == {"amount": "155.10", "currency": "EUR"}
    assert exposure(customer["id"]).open_receivables == Decimal("155.10")


def test_an_export_customer_is_invoiced_without_vat_in_its_currency(world: World, client):
    # Given the British demo customer (outside the EU, billed in GBP)
    order = placed(
        client, world, customer_id="cus_globex", currency="GBP", lines=[
            {"sku": "WIDGET-1", "quantity": 2}
        ],
    )  # fmt: skip

    # When it ships
    ship(client, world, order["id"], [(1, 2)])

    # Then the export is not taxed (G) and the invoice is in pounds
    [invoice] = documents(world)
    assert invoice["currency"] == "GBP" and invoice["total"]["amount"] == "35.00"
    assert [group["tax_code"] for group in invoice["taxes"]] == ["G"]
    assert exposure("cus_globex").open_receivables == Decimal("35.00")


def test_each_shipment_of_a_per_shipment_customer_gets_its_own_invoice(world: World, client):
    # Given a confirmed order
    order = placed(client, world)

    # When it ships in two parts
    first = ship(client, world, order["id"], [(1, 1)])
    second = ship(client, world, order["id"], [(1, 2), (2, 1)])

    # Then two invoices with consecutive numbers bill exactly what each shipment carried
    invoices = documents(world)
    assert [invoice["shipment_ids"] for invoice in invoices] == [
        [first["shipment_id"]],
        [second["shipment_id"]],
    ]
    assert [invoice["number"][-2:] for invoice in invoices] == ["01", "02"]
    assert [invoice["net_total"]["amount"] for invoice in invoices] == ["19.99", "40.11"]
    assert exposure("cus_acme").uninvoiced_orders == 0
    # and each reads back by its id as it was issued
    for invoice in invoices:
        answer = call(client, "GET", f"/invoices/{invoice['id']}")
        assert answer.status == 200 and answer.body == invoice
