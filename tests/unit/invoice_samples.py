"""Sample invoices and credit notes, built straight from the domain models.

Each covers a tax situation the documents must get right: a German domestic invoice with the
standard, reduced and zero rates and an early-payment discount; goods (intra-community supply,
K) and a service (reverse charge, AE) for a French business; an export invoice to a US buyer; a
credit note crediting part of the first.
Amounts follow the domain's rules (line net half-up to the minor unit, tax per group), computed
here by hand so the samples do not depend on the issuing code.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from shared.domain.invoice import (
    DocumentKind,
    Invoice,
    InvoiceLine,
    InvoiceStatus,
    Party,
    PartyAddress,
    PartyContact,
    PaymentInstructions,
    TaxBreakdown,
    TaxCode,
)
from shared.domain.money import quantize

ISSUED_ON = date(2026, 3, 2)
ISSUED_AT = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)
DELIVERED_ON = date(2026, 2, 27)
PAYMENT_REFERENCE = "RF18539007547034"

# (code, rate) -> (VATEX code, reason) for the categories that require an exemption reason
EXEMPTIONS = {
    TaxCode.REVERSE_CHARGE: ("VATEX-EU-AE", "Reverse charge"),
    TaxCode.INTRA_COMMUNITY: ("VATEX-EU-IC", "Intra-community supply"),
    TaxCode.EXPORT: ("VATEX-EU-G", "Export outside the EU"),
    TaxCode.EXEMPT: (
        "VATEX-EU-132",
        "Exempt based on article 132 of Council Directive 2006/112/EC",
    ),
}

SELLER = Party(
    name="Muster Handel GmbH",
    address=PartyAddress(
        line1="Hauptstrasse 1", line2="Gebaeude B", city="Berlin", postal_code="10115", country="DE"
    ),
    tax_id="DE123456789",
    email="billing@muster-handel.example",
    party_id="HRB 12345",
    endpoint="9930:DE123456789",
    contact=PartyContact(
        name="Debitorenbuchhaltung", phone="+49 30 9876543", email="ar@muster-handel.example"
    ),
)
PAYMENT = PaymentInstructions(
    iban="DE89370400440532013000", bic="COBADEFFXXX", account_name="Muster Handel GmbH"
)

Row = tuple[
    str, str, str, str, str, str, TaxCode, str
]  # sku, name, unit, qty, price, cat, code, rate


def buyer(
    name: str = "Beispiel AG",
    *,
    country: str = "DE",
    tax_id: str | None = "DE987654321",
    city: str = "Hamburg",
    postal_code: str = "20095",
    region: str | None = None,
    endpoint: str | None = None,
) -> Party:
    return Party(
        name=name,
        address=PartyAddress(
            line1="Am Hafen 5", city=city, postal_code=postal_code, region=region, country=country
        ),
        tax_id=tax_id,
        email="ap@buyer.example",
        party_id="cus_sample",
        endpoint=endpoint,
    )


def lines(rows: list[Row], currency: str) -> tuple[InvoiceLine, ...]:
    return tuple(
        InvoiceLine(
            line_no=number,
            order_line_no=number,
            sku=sku,
            name=name,
            unit=unit,
            quantity=Decimal(quantity),
            unit_price=Decimal(price),
            net_amount=quantize(Decimal(quantity) * Decimal(price), currency),
            tax_category=category,
            tax_code=code,
            tax_rate=Decimal(rate),
        )
        for number, (sku, name, unit, quantity, price, category, code, rate) in enumerate(rows, 1)
    )


def taxes(items: tuple[InvoiceLine, ...], currency: str) -> tuple[TaxBreakdown, ...]:
    groups: dict[tuple[TaxCode, Decimal], Decimal] = defaultdict(Decimal)
    for line in items:
        groups[(line.tax_code, line.tax_rate)] += line.net_amount
    breakdown = []
    for (code, rate), taxable in groups.items():
        reason_code, reason = EXEMPTIONS.get(code, (None, None))
        breakdown.append(
            TaxBreakdown(
                tax_code=code,
                tax_rate=rate,
                taxable_amount=taxable,
                tax_amount=quantize(taxable * rate / 100, currency),
                exemption_reason=reason,
                exemption_reason_code=reason_code,
            )
        )
    return tuple(breakdown)


def document(
    rows: list[Row],
    *,
    number: str,
    to: Party,
    currency: str = "EUR",
    kind: DocumentKind = DocumentKind.INVOICE,
    purchase_order: str | None = "PO-4711",
    discount_days: int | None = None,
    **changes: object,
) -> Invoice:
    items = lines(rows, currency)
    groups = taxes(items, currency)
    net = sum((line.net_amount for line in items), Decimal(0))
    tax = sum((group.tax_amount for group in groups), Decimal(0))
    total = net + tax
    is_invoice = kind is DocumentKind.INVOICE
    discount_until = ISSUED_ON + timedelta(days=discount_days) if discount_days else None
    invoice = Invoice(
        invoice_id=f"inv_{number.lower().replace('-', '_')}",
        kind=kind,
        number=number,
        series=number.rsplit("-", 1)[0],
        customer_id=to.party_id or "cus_sample",
        order_id="ord_0001",
        shipment_ids=("shp_0001",),
        purchase_order=purchase_order,
        currency=currency,
        seller=SELLER,
        buyer=to,
        payment=PAYMENT,
        lines=items,
        taxes=groups,
        net_total=net,
        tax_total=tax,
        total=total,
        issued_on=ISSUED_ON,
        issued_at=ISSUED_AT,
        delivered_on=DELIVERED_ON,
        due_on=ISSUED_ON + timedelta(days=30) if is_invoice else None,
        terms=("2/10 net 30" if discount_days else "Net 30") if is_invoice else None,
        discount_until=discount_until,
        discount_amount=quantize(total * Decimal("0.02"), currency)
        if discount_days
        else Decimal(0),
        payment_reference=PAYMENT_REFERENCE,
        amount_due=total if is_invoice else Decimal(0),
        status=InvoiceStatus.OPEN if is_invoice else InvoiceStatus.ISSUED,
    )
    return invoice.model_copy(update=changes) if changes else invoice


def domestic_invoice() -> Invoice:
    """DE -> DE: standard 19 %, reduced 7 % and zero-rated lines, 2 % discount within 10 days."""
    S = TaxCode.STANDARD
    return document(
        [
            ("WID-1", "Widget", "C62", "10", "12.50", "standard", S, "19"),
            ("BOOK-7", "Handbook of widgets", "C62", "3", "19.99", "reduced", S, "7"),
            ("GEL-2", "Contact gel", "KGM", "2.5", "4.123456", "standard", S, "19"),
            ("PAPER-1", "Printed newspaper", "C62", "1", "5.00", "zero", TaxCode.ZERO, "0"),
        ],
        number="INV-2026-000123",
        to=buyer(),
        discount_days=10,
    )


def reverse_charge_invoice() -> Invoice:
    """DE -> FR business with a VAT id: widgets sent to France (an intra-community supply, K)
    and their installation (a service under the reverse charge, AE); the buyer accounts for the
    VAT of both."""
    K, AE = TaxCode.INTRA_COMMUNITY, TaxCode.REVERSE_CHARGE
    to = buyer(
        "Initech SARL",
        country="FR",
        tax_id="FR40303265045",
        city="Paris",
        postal_code="75002",
        region="Ile-de-France",
    )
    return document(
        [
            ("WID-1", "Widget", "C62", "40", "12.50", "standard", K, "0"),
            ("SRV-9", "Installation service", "HUR", "6", "85.00", "standard", AE, "0"),
        ],
        number="INV-2026-000124",
        to=to,
        delivered_to=to.address,
    )


def export_invoice() -> Invoice:
    """DE -> US: an export outside the EU, no VAT charged, billed in US dollars."""
    G = TaxCode.EXPORT
    return document(
        [
            ("WID-1", "Widget", "C62", "100", "13.75", "standard", G, "0"),
            ("BOOK-7", "Handbook of widgets", "C62", "5", "21.50", "reduced", G, "0"),
        ],
        number="INV-2026-000125",
        currency="USD",
        to=buyer(
            "Acme Corp",
            country="US",
            tax_id=None,
            city="Springfield",
            postal_code="62701",
            region="IL",
            endpoint="0060:081466849",  # its DUNS number
        ),
    )


def credit_note() -> Invoice:
    """Credits 4 of the 10 widgets of ``domestic_invoice`` (damaged in transit)."""
    credited = domestic_invoice()
    return document(
        [("WID-1", "Widget", "C62", "4", "12.50", "standard", TaxCode.STANDARD, "19")],
        number="CN-2026-000007",
        to=credited.buyer,
        kind=DocumentKind.CREDIT_NOTE,
        credited_invoice_id=credited.invoice_id,
        credited_invoice_number=credited.number,
        credited_invoice_issued_on=credited.issued_on,
        reason="Damaged in transit",
    )


def exempt_invoice() -> Invoice:
    """DE -> DE: an exempt line (article 132) beside a standard one."""
    return document(
        [
            ("WID-1", "Widget", "C62", "2", "12.50", "standard", TaxCode.STANDARD, "19"),
            ("TRAIN-1", "Safety training", "HUR", "3", "60.00", "exempt", TaxCode.EXEMPT, "0"),
        ],
        number="INV-2026-000126",
        to=buyer(),
    )


def dutch_intra_community_invoice() -> Invoice:
    """DE -> NL business: goods delivered to its Rotterdam warehouse, an intra-community supply
    (K); the buyer reached under its Dutch VAT id (9944)."""
    return document(
        [("WID-1", "Widget", "C62", "12", "12.5", "standard", TaxCode.INTRA_COMMUNITY, "0")],
        number="INV-2026-000127",
        to=buyer(
            "Handelsonderneming de Vries B.V.",
            country="NL",
            tax_id="NL004495445B01",
            city="Amsterdam",
            postal_code="1012 AB",
        ),
        delivered_to=PartyAddress(
            line1="Waalhaven 12", city="Rotterdam", postal_code="3089 JH", country="NL"
        ),
    )


def swiss_export_invoice() -> Invoice:
    """DE -> CH: export in euros, the buyer reached under its Swiss VAT id (9927)."""
    G = TaxCode.EXPORT
    return document(
        [("WID-1", "Widget", "C62", "250", "12.4375", "standard", G, "0")],
        number="INV-2026-000128",
        to=buyer(
            "Zürcher Präzision AG",
            country="CH",
            tax_id="CHE116281710MWST",
            city="Zürich",
            postal_code="8001",
        ),
    )


def consumer_in_another_member_state() -> Invoice:
    """DE -> AT without a VAT id: German VAT, the buyer reached under its GLN (0088)."""
    return document(
        [("WID-1", "Widget", "C62", "1", "12.50", "standard", TaxCode.STANDARD, "19")],
        number="INV-2026-000129",
        to=buyer(
            "Österreichische Werkstätte",
            country="AT",
            tax_id=None,
            city="Wien",
            postal_code="1010",
            endpoint="0088:4012345000009",
        ),
    )


def full_credit_note() -> Invoice:
    """Credits all of ``domestic_invoice``: every rate, the zero-rated line too."""
    credited = domestic_invoice()
    return document(
        [
            ("WID-1", "Widget", "C62", "10", "12.50", "standard", TaxCode.STANDARD, "19"),
            (
                "BOOK-7",
                "Handbook of widgets",
                "C62",
                "3",
                "19.99",
                "reduced",
                TaxCode.STANDARD,
                "7",
            ),
            ("GEL-2", "Contact gel", "KGM", "2.5", "4.123456", "standard", TaxCode.STANDARD, "19"),
            ("PAPER-1", "Printed newspaper", "C62", "1", "5.00", "zero", TaxCode.ZERO, "0"),
        ],
        number="CN-2026-000008",
        to=credited.buyer,
        kind=DocumentKind.CREDIT_NOTE,
        credited_invoice_id=credited.invoice_id,
        credited_invoice_number=credited.number,
        credited_invoice_issued_on=credited.issued_on,
        reason="Order cancelled",
    )


def long_invoice(count: int = 200) -> Invoice:
    """An invoice of ``count`` lines (several pages)."""
    rows: list[Row] = [
        (
            f"SKU-{n:04d}",
            f"Spare part {n}",
            "C62",
            str(n % 7 + 1),
            "3.40",
            "standard",
            TaxCode.STANDARD,
            "19",
        )
        for n in range(1, count + 1)
    ]
    return document(rows, number="INV-2026-000200", to=buyer())


def all_samples() -> dict[str, Invoice]:
    return {
        "domestic": domestic_invoice(),
        "reverse_charge": reverse_charge_invoice(),
        "export": export_invoice(),
        "credit_note": credit_note(),
    }


def ubl_samples() -> dict[str, Invoice]:
    """``all_samples`` and more: every tax situation, currencies, scripts and sizes."""
    return {
        **all_samples(),
        "exempt": exempt_invoice(),
        "intra_community_nl": dutch_intra_community_invoice(),
        "export_ch": swiss_export_invoice(),
        "consumer_at": consumer_in_another_member_state(),
        "full_credit_note": full_credit_note(),
        "unicode_buyer": domestic_invoice().model_copy(
            update={"buyer": buyer("Łódź Hurtownia Spółka z o.o. — 東京支店")}
        ),
        "hundred_lines": long_invoice(100),
    }
