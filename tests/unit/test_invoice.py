from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from shared.domain import invoice as invoicing
from shared.domain.customer import Address, Customer
from shared.domain.invoice import DocumentKind, InvoiceStatus, TaxCode
from shared.domain.order import Order, OrderLine, OrderStatus, ShipTo
from shared.domain.seller import DEMO
from shared.domain.terms import PaymentTerms

ISSUED_AT = datetime(2026, 3, 5, 23, 30, 15, 123456, tzinfo=UTC)


def make_customer(
    *,
    country: str = "DE",
    tax_id: str | None = None,
    currency: str = "EUR",
    terms: PaymentTerms | None = None,
    customer_id: str = "cus_1",
    address: bool = True,
) -> Customer:
    return Customer(
        customer_id=customer_id,
        legal_name="Buyer Handels GmbH",
        billing_email="ap@buyer.example",
        currency=currency,
        tax_id=tax_id,
        billing_address=(
            Address(line1="Hauptstrasse 1", city="Munich", postal_code="80331", country=country)
            if address
            else None
        ),
        payment_terms=terms or PaymentTerms.net(30),
    )


def make_order(
    *lines: tuple[str, int, str],
    currency: str = "EUR",
    customer_id: str = "cus_1",
    ship_to: ShipTo | None = None,
) -> Order:
    """An order of (tax category, quantity, unit price) lines, numbered from 1."""
    return Order(
        order_id="ord_1",
        placed_by="prt_1",
        customer_id=customer_id,
        currency=currency,
        purchase_order="PO-77",
        ship_to=ship_to,
        lines=tuple(
            OrderLine(
                line_no=n,
                sku=f"SKU-{n}",
                name=f"Item {n}",
                unit="EA",
                tax_category=category,
                quantity=quantity,
                unit_price=Decimal(price),
                line_total=Decimal(0),
            )
            for n, (category, quantity, price) in enumerate(lines, start=1)
        ),
        total=Decimal(0),
        status=OrderStatus.SHIPPED,
        version=3,
        created_at=ISSUED_AT,
        updated_at=ISSUED_AT,
    )


def make_invoice(
    *lines: tuple[str, int, str],
    customer: Customer | None = None,
    currency: str = "EUR",
    sequence: int = 1,
    invoice_id: str = "inv_1",
) -> invoicing.Invoice:
    """An issued (numbered) invoice billing every unit of the order's lines."""
    customer = customer or make_customer(currency=currency)
    order = make_order(*lines, currency=currency, customer_id=customer.customer_id)
    draft = invoicing.draft(
        invoice_id=invoice_id,
        customer=customer,
        seller=DEMO,
        order=order,
        quantities={line.line_no: line.quantity for line in order.lines},
        shipment_ids=["shp_1"],
        issued_at=ISSUED_AT,
    )
    return invoicing.numbered(draft, sequence, DEMO)


# --- drafting ---------------------------------------------------------------------------------


def test_a_tax_mix_totals_exactly():
    # Given: standard, reduced and zero-rated lines for a domestic buyer
    order = make_order(("standard", 3, "19.99"), ("reduced", 2, "4.55"), ("zero", 1, "12.00"))

    # When
    draft = invoicing.draft(
        invoice_id="inv_1",
        customer=make_customer(),
        seller=DEMO,
        order=order,
        quantities={1: 3, 2: 2, 3: 1},
        shipment_ids=["shp_1"],
        issued_at=ISSUED_AT,
    )

    # Then
    assert [line.net_amount for line in draft.lines] == [
        Decimal("59.97"),
        Decimal("9.10"),
        Decimal("12.00"),
    ]
    assert [(t.tax_code, t.tax_rate, t.tax_amount) for t in draft.taxes] == [
        (TaxCode.STANDARD, Decimal(19), Decimal("11.39")),  # 59.97 x 19 % = 11.3943
        (TaxCode.STANDARD, Decimal(7), Decimal("0.64")),  # 9.10 x 7 % = 0.637
        (TaxCode.ZERO, Decimal(0), Decimal("0.00")),
    ]
    assert draft.net_total == Decimal("81.07")
    assert draft.tax_total == Decimal("12.03")
    assert draft.total == Decimal("93.10")
    assert draft.amount_due == draft.total
    assert draft.status is InvoiceStatus.OPEN
    assert (draft.number, draft.series, draft.payment_reference) == ("", "", "")


def test_a_draft_bills_only_the_shipped_quantities_in_line_order():
    # Given
    order = make_order(("standard", 5, "10"), ("standard", 4, "1"), ("reduced", 2, "3"))

    # When
    draft = invoicing.draft(
        invoice_id="inv_1",
        customer=make_customer(),
        seller=DEMO,
        order=order,
        quantities={3: 1, 2: 0, 1: 2},
        shipment_ids=["shp_1", "shp_2"],
        issued_at=ISSUED_AT,
    )

    # Then: line 2 shipped nothing, so it is not billed; invoice lines are renumbered 1..n
    assert [(line.line_no, line.order_line_no, line.quantity) for line in draft.lines] == [
        (1, 1, Decimal(2)),
        (2, 3, Decimal(1)),
    ]
    assert draft.shipment_ids == ("shp_1", "shp_2")
    assert draft.order_id == "ord_1"
    assert draft.purchase_order == "PO-77"


def test_a_line_amount_rounds_half_up():
    # Given: 3 x 0.335 = 1.005
    invoice = make_invoice(("zero", 3, "0.335"))

    # Then
    assert invoice.lines[0].net_amount == Decimal("1.01")
    assert invoice.total == Decimal("1.01")


def test_a_zero_decimal_currency_rounds_to_whole_units():
    # Given: JPY, 3 x 333.5 = 1000.5 -> 1001; 19 % of 1001 = 190.19 -> 190
    invoice = make_invoice(("standard", 3, "333.5"), currency="JPY")

    # Then
    assert invoice.net_total == Decimal(1001)
    assert invoice.tax_total == Decimal(190)
    assert invoice.total == Decimal(1191)
    assert invoice.to_wire()["total"] == {"amount": "1191", "currency": "JPY"}


def test_a_three_decimal_currency_keeps_fils():
    # Given: KWD, 7 x 1.2345 = 8.6415 -> 8.642; 7 % = 0.60494 -> 0.605
    invoice = make_invoice(("reduced", 7, "1.2345"), currency="KWD")

    # Then
    assert invoice.net_total == Decimal("8.642")
    assert invoice.tax_total == Decimal("0.605")
    assert invoice.to_wire()["total"] == {"amount": "9.247", "currency": "KWD"}


def test_two_ten_net_thirty_sets_the_due_date_and_the_discount():
    # Given
    customer = make_customer(terms=PaymentTerms.net(30, discount_percent="2", discount_days=10))

    # When: 100.00 + 19 % = 119.00, issued late on 5 March (UTC)
    invoice = make_invoice(("standard", 1, "100"), customer=customer)

    # Then
    assert invoice.issued_on == date(2026, 3, 5)
    assert invoice.due_on == date(2026, 4, 4)
    assert invoice.discount_until == date(2026, 3, 15)
    assert invoice.discount_amount == Decimal("2.38")
    assert invoice.terms == "2/10 net 30"


def test_the_issue_date_is_the_utc_date():
    # Given: 00:30 on 6 March in Berlin is still 5 March in UTC
    from zoneinfo import ZoneInfo

    moment = datetime(2026, 3, 6, 0, 30, tzinfo=ZoneInfo("Europe/Berlin"))

    # When
    draft = invoicing.draft(
        invoice_id="inv_1",
        customer=make_customer(),
        seller=DEMO,
        order=make_order(("standard", 1, "1")),
        quantities={1: 1},
        shipment_ids=[],
        issued_at=moment,
    )

    # Then
    assert draft.issued_on == date(2026, 3, 5)


def test_goods_for_an_eu_business_buyer_are_an_intra_community_supply():
    # Given: a French buyer with a VAT id
    customer = make_customer(country="FR", tax_id="FR40303265045")

    # When
    invoice = make_invoice(("standard", 2, "50"), ("reduced", 1, "10"), customer=customer)

    # Then: one K group, no VAT, the reason printed, delivered to France
    assert [line.tax_code for line in invoice.lines] == [TaxCode.INTRA_COMMUNITY] * 2
    (group,) = invoice.taxes
    assert (group.tax_code, group.taxable_amount, group.tax_amount) == (
        TaxCode.INTRA_COMMUNITY,
        Decimal("110.00"),
        Decimal("0.00"),
    )
    assert group.exemption_reason_code == "VATEX-EU-IC"
    assert invoice.delivered_to is not None
    assert invoice.delivered_to.country == "FR"


def test_services_for_an_eu_business_buyer_are_reverse_charged():
    # Given: a French buyer with a VAT id, and an order of services
    customer = make_customer(country="FR", tax_id="FR40303265045")
    order = make_order(("standard", 2, "50"), ("reduced", 1, "10"))
    order = order.model_copy(
        update={
            "lines": tuple(line.model_copy(update={"supply": "services"}) for line in order.lines)
        }
    )

    # When
    invoice = invoicing.draft(
        invoice_id="inv_1",
        customer=customer,
        seller=DEMO,
        order=order,
        quantities={1: 2, 2: 1},
        shipment_ids=[],
        issued_at=ISSUED_AT,
    )

    # Then: one AE group, no VAT, the reason printed
    assert [line.tax_code for line in invoice.lines] == [TaxCode.REVERSE_CHARGE] * 2
    (group,) = invoice.taxes
    assert (group.tax_code, group.taxable_amount, group.tax_amount) == (
        TaxCode.REVERSE_CHARGE,
        Decimal("110.00"),
        Decimal("0.00"),
    )
    assert group.exemption_reason_code == "VATEX-EU-AE"
    assert invoice.total == Decimal("110.00")
    assert invoice.buyer.tax_id == "FR40303265045"


def test_a_buyer_outside_the_eu_is_an_export():
    # Given
    customer = make_customer(country="US", currency="USD")

    # When
    invoice = make_invoice(("standard", 1, "80"), customer=customer, currency="USD")

    # Then
    (group,) = invoice.taxes
    assert (group.tax_code, group.tax_amount, group.exemption_reason_code) == (
        TaxCode.EXPORT,
        Decimal("0.00"),
        "VATEX-EU-G",
    )
    assert invoice.total == Decimal("80.00")


def test_the_parties_and_payment_come_from_the_seller_and_the_customer():
    # Given / When
    invoice = make_invoice(("standard", 1, "1"))

    # Then
    assert invoice.seller == DEMO.party
    assert invoice.payment == DEMO.payment
    assert invoice.buyer.name == "Buyer Handels GmbH"
    assert invoice.buyer.email == "ap@buyer.example"
    assert invoice.buyer.party_id == "cus_1"
    assert invoice.buyer.address.city == "Munich"


def test_a_legacy_account_without_billing_address_is_billed_at_the_ship_to():
    # Given
    customer = make_customer(address=False)
    ship_to = ShipTo(
        name="Dock 4", line1="Kai 2", city="Hamburg", postal_code="20457", country="DE"
    )

    # When
    draft = invoicing.draft(
        invoice_id="inv_1",
        customer=customer,
        seller=DEMO,
        order=make_order(("standard", 1, "5"), ship_to=ship_to),
        quantities={1: 1},
        shipment_ids=[],
        issued_at=ISSUED_AT,
    )

    # Then
    assert draft.buyer.address.city == "Hamburg"


def test_without_any_address_there_is_no_invoice():
    with pytest.raises(ValueError, match="no billing address"):
        invoicing.draft(
            invoice_id="inv_1",
            customer=make_customer(address=False),
            seller=DEMO,
            order=make_order(("standard", 1, "5")),
            quantities={1: 1},
            shipment_ids=[],
            issued_at=ISSUED_AT,
        )


@pytest.mark.parametrize(
    ("quantities", "message"),
    [
        ({}, "at least one unit"),
        ({1: 0}, "at least one unit"),
        ({9: 1}, "no line 9"),
        ({1: 3}, "cannot bill 3 of 2"),
        ({1: -1}, "cannot bill -1"),
    ],
)
def test_bad_quantities_are_refused(quantities, message):
    with pytest.raises(ValueError, match=message):
        invoicing.draft(
            invoice_id="inv_1",
            customer=make_customer(),
            seller=DEMO,
            order=make_order(("standard", 2, "5")),
            quantities=quantities,
            shipment_ids=[],
            issued_at=ISSUED_AT,
        )


def test_an_invoice_for_nothing_is_refused():
    with pytest.raises(ValueError, match="above 0"):
        make_invoice(("standard", 1, "0"))


# --- numbering --------------------------------------------------------------------------------


def test_numbering_assigns_series_number_and_reference():
    # Given / When
    invoice = make_invoice(("standard", 1, "1"), sequence=123)

    # Then
    assert invoice.series == "INV-2026"
    assert invoice.number == "INV-2026-000123"
    assert invoice.payment_reference == "RF98INV2026000123"


def test_a_numbered_document_is_not_numbered_again():
    invoice = make_invoice(("standard", 1, "1"))

    with pytest.raises(ValueError, match="numbered already"):
        invoicing.numbered(invoice, 2, DEMO)


# --- the receivable ---------------------------------------------------------------------------


def test_payments_move_the_status_from_open_to_partially_paid_to_paid():
    # Given: 119.00 due
    invoice = make_invoice(("standard", 1, "100"))

    # When
    partly = invoicing.record_payment(invoice, Decimal("19.00"))
    fully = invoicing.record_payment(partly, Decimal("100.00"))

    # Then
    assert (partly.status, partly.amount_due, partly.version) == (
        InvoiceStatus.PARTIALLY_PAID,
        Decimal("100.00"),
        2,
    )
    assert (fully.status, fully.amount_due, fully.amount_paid, fully.version) == (
        InvoiceStatus.PAID,
        Decimal(0),
        Decimal("119.00"),
        3,
    )


def test_an_early_payment_discount_settles_the_invoice():
    # Given
    customer = make_customer(terms=PaymentTerms.net(30, discount_percent="2", discount_days=10))
    invoice = make_invoice(("standard", 1, "100"), customer=customer)

    # When
    paid = invoicing.record_payment(invoice, Decimal("116.62"), discount=Decimal("2.38"))

    # Then
    assert (paid.status, paid.amount_due, paid.amount_discounted) == (
        InvoiceStatus.PAID,
        Decimal(0),
        Decimal("2.38"),
    )


@pytest.mark.parametrize("amount", [Decimal(0), Decimal("-1"), Decimal("119.01")])
def test_non_positive_payments_and_more_than_is_due_are_refused(amount):
    invoice = make_invoice(("standard", 1, "100"))

    with pytest.raises(ValueError):
        invoicing.record_payment(invoice, amount)


def test_a_dispute_holds_while_something_is_due():
    # Given
    invoice = make_invoice(("standard", 1, "100")).model_copy(
        update={"status": InvoiceStatus.DISPUTED}
    )

    # When
    partly = invoicing.record_payment(invoice, Decimal("50"))
    fully = invoicing.record_payment(partly, partly.amount_due)

    # Then
    assert partly.status is InvoiceStatus.DISPUTED
    assert fully.status is InvoiceStatus.PAID


# --- events and the wire ----------------------------------------------------------------------


def test_issuing_an_invoice_is_invoice_issued_with_the_document():
    # Given
    invoice = make_invoice(("standard", 1, "1"))

    # When
    event = invoicing.issued_event(invoice)

    # Then
    assert (event.detail_type, event.source, event.aggregate_id) == (
        "InvoiceIssued",
        "otc.invoicing",
        "inv_1",
    )
    assert event.occurred_at == invoice.issued_at
    assert event.data == invoice.to_wire()


def test_every_field_survives_the_wire():
    # Given: an invoice with something credited, paid and discounted, and a credit note
    customer = make_customer(
        tax_id="DE123456789", terms=PaymentTerms.net(14, discount_percent="3", discount_days=7)
    )
    invoice = make_invoice(
        ("standard", 3, "0.335"), ("reduced", 2, "10"), ("exempt", 1, "5"), customer=customer
    )
    note = invoicing.numbered(
        invoicing.credit_note(
            invoice,
            credit_note_id="cn_1",
            quantities={1: Decimal(1), 3: Decimal("0.5")},
            reason="damaged",
            issued_at=ISSUED_AT,
        ),
        1,
        DEMO,
    )
    credited = invoicing.apply_credit(invoice, note)
    paid = invoicing.record_payment(credited, Decimal("5.00"), discount=Decimal("0.10"))

    # When / Then
    delivered = invoice.model_copy(update={"delivered_on": ISSUED_AT.date()})
    for doc in (invoice, note, paid, delivered):
        assert invoicing.from_wire(doc.to_wire()) == doc
    assert note.to_wire()["credited_invoice_issued_on"] == invoice.issued_on.isoformat()
    assert delivered.to_wire()["delivered_on"] == ISSUED_AT.date().isoformat()
    assert paid.credited_quantities and paid.credited_taxes
    assert paid.to_wire()["credited_quantities"] == {"1": "1", "3": "0.5"}
    assert note.kind is DocumentKind.CREDIT_NOTE
