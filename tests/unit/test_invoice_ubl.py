"""The UBL 2.1 / Peppol BIS 3.0 XML of invoices and credit notes, checked against the OASIS XSD,
the CEN EN 16931 rules and the Peppol BIS Billing 3.0 rules (tests/unit/validation.py)."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest
from lxml import etree

from functions.invoicing.ubl import CUSTOMIZATION_ID, PROFILE_ID, render_ubl
from shared.domain import invoice as invoicing
from shared.domain.invoice import DocumentKind, Invoice, TaxCode
from shared.domain.seller import DEMO
from tests.unit import invoice_samples
from tests.unit.invoice_samples import document, ubl_samples
from tests.unit.test_invoice import make_customer, make_invoice
from tests.unit.validation import Validator, validator

SCHEMAS = Path(__file__).parents[1] / "schemas" / "ubl-2.1" / "maindoc"
LEGACY_INVOICE = Path(__file__).parents[2] / "events" / "eventbridge" / "invoice-issued.json"
NS = {
    "cac": "urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2",
    "cbc": "urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2",
}
SAMPLES = ubl_samples()


@pytest.fixture(scope="module")
def schemas() -> dict[str, etree.XMLSchema]:
    """The OASIS schemas, compiled from the vendored files only (no network)."""
    parser = etree.XMLParser(no_network=True)
    return {
        root: etree.XMLSchema(etree.parse(str(SCHEMAS / f"UBL-{root}-2.1.xsd"), parser))
        for root in ("Invoice", "CreditNote")
    }


def _parse(invoice: Invoice) -> etree._Element:
    return etree.fromstring(render_ubl(invoice))


def _text(root: etree._Element, path: str) -> str:
    found = root.findtext(path, namespaces=NS)
    assert found is not None, path
    return found


def _amount(root: etree._Element, path: str) -> Decimal:
    return Decimal(_text(root, path))


@pytest.mark.parametrize("name", SAMPLES)
def test_each_sample_is_valid_against_the_oasis_ubl_21_schema(
    name: str, schemas: dict[str, etree.XMLSchema]
) -> None:
    # Given a sample document
    invoice = SAMPLES[name]

    # When it is rendered as UBL
    root = _parse(invoice)

    # Then the schema of its root element accepts it
    expected = "CreditNote" if invoice.kind is DocumentKind.CREDIT_NOTE else "Invoice"
    assert etree.QName(root).localname == expected
    schema = schemas[expected]
    assert schema.validate(root), schema.error_log


def test_an_element_out_of_schema_order_is_rejected(schemas: dict[str, etree.XMLSchema]) -> None:
    # Given a valid invoice whose IssueDate is moved in front of its ID
    root = _parse(SAMPLES["domestic"])
    issue_date = root.find("cbc:IssueDate", NS)
    assert issue_date is not None
    root.remove(issue_date)
    root.insert(0, issue_date)

    # When it is validated
    valid = schemas["Invoice"].validate(root)

    # Then the schema rejects it, naming the misplaced element
    assert not valid
    assert "IssueDate" in str(schemas["Invoice"].error_log.last_error)


def test_a_large_invoice_is_valid_too(schemas: dict[str, etree.XMLSchema]) -> None:
    # Given an invoice of 200 lines
    root = _parse(invoice_samples.long_invoice(200))

    # Then it validates and carries every line
    assert schemas["Invoice"].validate(root), schemas["Invoice"].error_log
    assert len(root.findall("cac:InvoiceLine", NS)) == 200


@pytest.mark.parametrize("name", SAMPLES)
def test_documents_declare_peppol_bis_billing_3(name: str) -> None:
    # When a sample is rendered
    root = _parse(SAMPLES[name])

    # Then it names the Peppol BIS Billing 3.0 customization and profile, and its type code
    assert _text(root, "cbc:CustomizationID") == CUSTOMIZATION_ID
    assert _text(root, "cbc:ProfileID") == PROFILE_ID
    if SAMPLES[name].kind is DocumentKind.CREDIT_NOTE:
        assert _text(root, "cbc:CreditNoteTypeCode") == "381"
    else:
        assert _text(root, "cbc:InvoiceTypeCode") == "380"


def test_the_xml_starts_with_a_utf8_declaration() -> None:
    # When a document is rendered
    xml = render_ubl(SAMPLES["domestic"])

    # Then it declares its encoding
    assert xml.startswith(b'<?xml version="1.0" encoding="UTF-8"?>')


@pytest.mark.parametrize("name", SAMPLES)
def test_totals_in_the_xml_equal_the_documents(name: str) -> None:
    # Given a sample and its XML
    invoice = SAMPLES[name]
    root = _parse(invoice)

    # Then the monetary totals are the document's
    totals = "cac:LegalMonetaryTotal/cbc:"
    assert _amount(root, totals + "LineExtensionAmount") == sum(
        line.net_amount for line in invoice.lines
    )
    assert _amount(root, totals + "TaxExclusiveAmount") == invoice.net_total
    assert _amount(root, totals + "TaxInclusiveAmount") == invoice.total
    assert _amount(root, totals + "PayableAmount") == invoice.total
    assert _amount(root, "cac:TaxTotal/cbc:TaxAmount") == invoice.tax_total

    # And each tax group is there with its code, rate, taxable amount and tax
    subtotals = [
        (
            _text(group, "cac:TaxCategory/cbc:ID"),
            Decimal(_text(group, "cac:TaxCategory/cbc:Percent")),
            Decimal(_text(group, "cbc:TaxableAmount")),
            Decimal(_text(group, "cbc:TaxAmount")),
        )
        for group in root.findall("cac:TaxTotal/cac:TaxSubtotal", NS)
    ]
    assert subtotals == [
        (g.tax_code.value, g.tax_rate, g.taxable_amount, g.tax_amount) for g in invoice.taxes
    ]

    # And each line's quantity and net amount
    line_tag = "CreditNoteLine" if invoice.kind is DocumentKind.CREDIT_NOTE else "InvoiceLine"
    quantity_tag = (
        "CreditedQuantity" if invoice.kind is DocumentKind.CREDIT_NOTE else "InvoicedQuantity"
    )
    rendered = [
        (
            _text(line, "cac:Item/cac:SellersItemIdentification/cbc:ID"),
            Decimal(_text(line, f"cbc:{quantity_tag}")),
            Decimal(_text(line, "cbc:LineExtensionAmount")),
        )
        for line in root.findall(f"cac:{line_tag}", NS)
    ]
    assert rendered == [(line.sku, line.quantity, line.net_amount) for line in invoice.lines]


@pytest.mark.parametrize("name", SAMPLES)
def test_every_amount_has_the_currency_and_its_minor_unit_digits(name: str) -> None:
    # Given a sample in EUR or USD (two minor-unit digits)
    invoice = SAMPLES[name]
    root = _parse(invoice)

    # Then every amount names the currency; all but unit prices have exactly two decimals
    amounts = root.xpath("//*[@currencyID]")
    assert amounts
    for element in amounts:
        assert element.get("currencyID") == invoice.currency
        if etree.QName(element).localname != "PriceAmount":
            assert len(element.text.split(".")[1]) == 2, etree.tostring(element)


def test_unit_prices_keep_their_precision() -> None:
    # Given a line priced at 4.123456 per kilogram, and one at 12.5
    root = _parse(SAMPLES["domestic"])

    # Then prices keep six decimals where they have them and two otherwise
    prices = [e.text for e in root.findall("cac:InvoiceLine/cac:Price/cbc:PriceAmount", NS)]
    assert prices == ["12.50", "19.99", "4.123456", "5.00"]
    assert root.findall("cac:InvoiceLine/cbc:InvoicedQuantity", NS)[2].get("unitCode") == "KGM"


def test_a_currency_without_minor_units_is_written_without_decimals(
    schemas: dict[str, etree.XMLSchema],
) -> None:
    # Given an invoice in yen
    invoice = document(
        [("WID-1", "Widget", "C62", "3", "1250", "standard", TaxCode.STANDARD, "10")],
        number="INV-2026-000300",
        currency="JPY",
        to=invoice_samples.buyer(),
    )

    # When it is rendered
    root = _parse(invoice)

    # Then its amounts have no decimals, and it stays valid
    assert _text(root, "cac:LegalMonetaryTotal/cbc:PayableAmount") == "4125"
    assert _text(root, "cac:TaxTotal/cbc:TaxAmount") == "375"
    assert schemas["Invoice"].validate(root), schemas["Invoice"].error_log


def test_invoices_say_how_to_pay_and_by_when() -> None:
    # When the domestic invoice is rendered
    invoice = SAMPLES["domestic"]
    root = _parse(invoice)

    # Then it asks for a SEPA credit transfer quoting the payment reference, with due date and
    # terms (the early-payment discount spelled out)
    assert invoice.payment is not None
    means = "cac:PaymentMeans/"
    assert _text(root, means + "cbc:PaymentMeansCode") == "58"
    assert _text(root, means + "cbc:PaymentID") == invoice.payment_reference
    assert _text(root, means + "cac:PayeeFinancialAccount/cbc:ID") == invoice.payment.iban
    bic = "cac:PayeeFinancialAccount/cac:FinancialInstitutionBranch/cbc:ID"
    assert _text(root, means + bic) == invoice.payment.bic
    assert _text(root, "cbc:DueDate") == "2026-04-01"
    terms = _text(root, "cac:PaymentTerms/cbc:Note")
    assert terms.startswith("2/10 net 30.")
    assert "4.60 EUR if paid by 2026-03-12" in terms


def test_parties_are_addressed_by_peppol_id_with_vat_ids_and_legal_names() -> None:
    # When the reverse-charge invoice is rendered (a French buyer without a participant id)
    invoice = SAMPLES["reverse_charge"]
    root = _parse(invoice)

    # Then the seller is reached under its participant id, the buyer under its VAT id in the
    # French VAT scheme (EAS 9957); both have address, VAT id and legal name
    for role, party, endpoint_id in (
        ("cac:AccountingSupplierParty", invoice.seller, ("9930", "DE123456789")),
        ("cac:AccountingCustomerParty", invoice.buyer, ("9957", "FR40303265045")),
    ):
        endpoint = root.find(f"{role}/cac:Party/cbc:EndpointID", NS)
        assert endpoint is not None
        assert (endpoint.get("schemeID"), endpoint.text) == endpoint_id
        assert _text(root, f"{role}/cac:Party/cac:PartyTaxScheme/cbc:CompanyID") == party.tax_id
        assert _text(root, f"{role}/cac:Party/cac:PartyTaxScheme/cac:TaxScheme/cbc:ID") == "VAT"
        legal_name = f"{role}/cac:Party/cac:PartyLegalEntity/cbc:RegistrationName"
        assert _text(root, legal_name) == party.name
        country = f"{role}/cac:Party/cac:PostalAddress/cac:Country/cbc:IdentificationCode"
        assert _text(root, country) == party.address.country
    region = "cac:AccountingCustomerParty/cac:Party/cac:PostalAddress/cbc:CountrySubentity"
    assert _text(root, region) == "Ile-de-France"


def test_intra_community_reverse_charge_and_export_groups_give_their_exemption_reasons() -> None:
    # When the intra-EU (goods and a service) and export invoices are rendered
    for name, code, reason_code in (
        ("reverse_charge", "K", "VATEX-EU-IC"),
        ("reverse_charge", "AE", "VATEX-EU-AE"),
        ("export", "G", "VATEX-EU-G"),
    ):
        categories = {
            _text(found, "cbc:ID"): found
            for found in _parse(SAMPLES[name]).findall(
                "cac:TaxTotal/cac:TaxSubtotal/cac:TaxCategory", NS
            )
        }

        # Then the category carries a zero rate and the exemption reason and its code
        category = categories[code]
        assert _text(category, "cbc:Percent") == "0"
        assert _text(category, "cbc:TaxExemptionReasonCode") == reason_code
        assert _text(category, "cbc:TaxExemptionReason")


def test_an_intra_community_supply_names_where_the_goods_went() -> None:
    # When the Dutch intra-community invoice is rendered
    root = _parse(SAMPLES["intra_community_nl"])

    # Then the deliver-to address (BG-15, its country BT-80) and the date of supply (BT-72) are
    # there, which BR-IC-11 and BR-IC-12 require
    location = "cac:Delivery/cac:DeliveryLocation/cac:Address/"
    assert _text(root, location + "cbc:CityName") == "Rotterdam"
    assert _text(root, location + "cac:Country/cbc:IdentificationCode") == "NL"
    assert _text(root, "cac:Delivery/cbc:ActualDeliveryDate") == "2026-02-27"


def test_the_rules_refuse_an_intra_community_supply_without_delivery(rules: Validator) -> None:
    # Given the intra-community invoice without its date of supply and deliver-to address
    invoice = SAMPLES["intra_community_nl"].model_copy(
        update={"delivered_on": None, "delivered_to": None}
    )

    # When it is validated, Then EN 16931 refuses it for both
    fired = {failure.rule for failure in rules.fatal(render_ubl(invoice))}
    assert {"BR-IC-11", "BR-IC-12"} <= fired


def test_a_buyer_without_vat_id_has_no_tax_scheme() -> None:
    # When the export invoice (a US buyer without VAT id) is rendered
    root = _parse(SAMPLES["export"])

    # Then the buyer has no PartyTaxScheme, the seller has one
    assert root.find("cac:AccountingCustomerParty/cac:Party/cac:PartyTaxScheme", NS) is None
    assert root.find("cac:AccountingSupplierParty/cac:Party/cac:PartyTaxScheme", NS) is not None


def test_a_credit_note_references_the_invoice_it_credits() -> None:
    # When the credit note is rendered
    note = SAMPLES["credit_note"]
    root = _parse(note)

    # Then it names the credited invoice and the reason, credits quantities, asks no payment
    credited = "cac:BillingReference/cac:InvoiceDocumentReference/cbc:ID"
    assert _text(root, credited) == "INV-2026-000123"
    assert _text(root, "cbc:Note") == "Damaged in transit"
    assert _text(root, "cac:CreditNoteLine/cbc:CreditedQuantity") == "4"
    assert root.find("cac:PaymentMeans/cac:PayeeFinancialAccount", NS) is None
    assert root.find("cbc:DueDate", NS) is None


def test_the_order_id_is_the_buyer_reference_without_a_purchase_order() -> None:
    # Given an invoice for an order placed without a purchase order number
    invoice = SAMPLES["domestic"].model_copy(update={"purchase_order": None})

    # When it is rendered
    root = _parse(invoice)

    # Then the order id is the buyer reference and the sales order reference
    assert _text(root, "cbc:BuyerReference") == "ord_0001"
    assert _text(root, "cac:OrderReference/cbc:ID") == "NA"
    assert _text(root, "cac:OrderReference/cbc:SalesOrderID") == "ord_0001"


def test_names_outside_ascii_survive_in_utf8(schemas: dict[str, etree.XMLSchema]) -> None:
    # Given a buyer whose name has Polish letters
    invoice = SAMPLES["domestic"].model_copy(
        update={"buyer": invoice_samples.buyer("Łódź Hurtownia Spółka z o.o.")}
    )

    # When it is rendered
    root = _parse(invoice)

    # Then the name is kept as is
    name = "cac:AccountingCustomerParty/cac:Party/cac:PartyLegalEntity/cbc:RegistrationName"
    assert _text(root, name) == "Łódź Hurtownia Spółka z o.o."
    assert schemas["Invoice"].validate(root)


# --- the official rules -----------------------------------------------------------------------


@pytest.fixture(scope="session")
def rules() -> Validator:
    """XSD, CEN EN 16931 and Peppol BIS 3.0.19, compiled once per test process."""
    return validator()


@pytest.mark.parametrize("name", SAMPLES)
def test_each_sample_passes_the_xsd_the_cen_and_the_peppol_rules(
    name: str, rules: Validator
) -> None:
    # Given a sample document (every tax situation, invoices and credit notes)
    invoice = SAMPLES[name]

    # When it is rendered and validated
    failures = rules.fatal(render_ubl(invoice), peppol=True)

    # Then no rule fails fatally
    assert failures == []


@pytest.mark.parametrize(
    "lines",
    [
        [("standard", 3, "19.99"), ("reduced", 2, "4.55"), ("zero", 1, "12.00")],
        [("standard", 7, "0.123456"), ("exempt", 1, "250.00")],
    ],
)
@pytest.mark.parametrize(
    ("country", "tax_id"),
    [("DE", None), ("DE", "DE811907980"), ("NL", "NL004495445B01"), ("CH", "CHE116281710MWST")],
)
def test_invoices_and_credit_notes_the_domain_issues_pass_every_rule(
    lines: list[tuple[str, int, str]], country: str, tax_id: str | None, rules: Validator
) -> None:
    # Given an invoice issued by the demo seller to a customer (a participant id of its own when
    # it has no VAT id), and a credit note for one unit of its first line
    customer = make_customer(country=country, tax_id=tax_id)
    if tax_id is None:
        customer = customer.model_copy(update={"peppol_id": "0208:0123456749"})
    invoice = make_invoice(*lines, customer=customer)
    note = invoicing.numbered(
        invoicing.credit_note(
            invoice,
            credit_note_id="inv_2",
            quantities={1: Decimal(1)},
            reason="Returned",
            issued_at=invoice.issued_at,
        ),
        1,
        DEMO,
    )

    # When both are rendered and validated
    # Then neither fails a rule
    assert rules.fatal(render_ubl(invoice), peppol=True) == []
    assert rules.fatal(render_ubl(note), peppol=True) == []


def _broken(name: str, path: str) -> bytes:
    """A sample's XML with the element at ``path`` removed."""
    root = _parse(SAMPLES[name])
    element = root.find(path, NS)
    assert element is not None, path
    parent = element.getparent()
    assert parent is not None
    parent.remove(element)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")


@pytest.mark.parametrize(
    ("name", "path", "rule"),
    [
        ("domestic", "cac:AccountingSupplierParty/cac:Party/cac:Contact", "DE-R-002"),
        ("credit_note", "cac:PaymentMeans", "DE-R-001"),
        ("domestic", "cac:AccountingCustomerParty/cac:Party/cbc:EndpointID", "PEPPOL-EN16931-R010"),
        ("domestic", "cac:TaxTotal/cbc:TaxAmount", "XSD"),
        (
            "export",
            "cac:AccountingSupplierParty/cac:Party/cac:PartyLegalEntity/cbc:RegistrationName",
            "BR-06",
        ),
    ],
)
def test_the_validators_catch_a_missing_mandatory_element(
    name: str, path: str, rule: str, rules: Validator
) -> None:
    # Given a valid sample with a mandatory element removed
    xml = _broken(name, path)

    # When it is validated
    broken = rules.rules_broken(xml)

    # Then the rule that requires it fails
    assert rule in broken


def test_an_email_endpoint_is_refused_by_peppol(rules: Validator) -> None:
    # Given a valid invoice whose parties are addressed by e-mail (EAS "EM", not in Peppol's list)
    root = _parse(SAMPLES["domestic"])
    for endpoint in root.iterfind(".//cbc:EndpointID", NS):
        endpoint.set("schemeID", "EM")
        endpoint.text = "ap@buyer.example"

    # When it is validated
    failures = rules.fatal(etree.tostring(root))

    # Then Peppol refuses both electronic addresses, and nothing else
    assert [failure.rule for failure in failures] == ["PEPPOL-EN16931-CL008"] * 2


def test_a_buyer_without_any_identifier_gets_a_document_for_email_only(rules: Validator) -> None:
    # Given a buyer with neither a participant id nor a VAT id
    invoice = SAMPLES["export"].model_copy(
        update={"buyer": invoice_samples.buyer("Acme Corp", country="US", tax_id=None)}
    )

    # When its invoice is rendered and validated
    xml = render_ubl(invoice)
    root = _parse(invoice)

    # Then it has no electronic address and says it is an EN 16931 document (for e-mail), not
    # a Peppol one: it passes the XSD and the CEN rules
    assert root.find("cac:AccountingCustomerParty/cac:Party/cbc:EndpointID", NS) is None
    assert _text(root, "cbc:CustomizationID") == "urn:cen.eu:en16931:2017"
    assert root.find("cbc:ProfileID", NS) is None
    assert rules.fatal(xml) == []

    # And held to the Peppol rules anyway, it fails for the missing address and for not
    # declaring Peppol BIS (customization R004, profile R001 and R007) alone
    assert rules.rules_broken(xml, peppol=True) == {
        "PEPPOL-EN16931-R010",
        "PEPPOL-EN16931-R004",
        "PEPPOL-EN16931-R001",
        "PEPPOL-EN16931-R007",
    }


def test_documents_give_the_date_of_supply_and_notes_the_credited_invoices_date() -> None:
    # When an invoice and a credit note are rendered
    invoice, note = _parse(SAMPLES["domestic"]), _parse(SAMPLES["credit_note"])

    # Then both give the date of supply; the note names the credited invoice and its issue date,
    # and is cleared against it (payment means 97)
    for root in (invoice, note):
        assert _text(root, "cac:Delivery/cbc:ActualDeliveryDate") == "2026-02-27"
    credited = "cac:BillingReference/cac:InvoiceDocumentReference/"
    assert _text(note, credited + "cbc:ID") == "INV-2026-000123"
    assert _text(note, credited + "cbc:IssueDate") == "2026-03-02"
    assert _text(note, "cac:PaymentMeans/cbc:PaymentMeansCode") == "97"


def test_the_seller_names_its_contact() -> None:
    # When a document is rendered
    root = _parse(SAMPLES["domestic"])

    # Then the seller's contact has a name, phone and e-mail (BG-6)
    contact = "cac:AccountingSupplierParty/cac:Party/cac:Contact/cbc:"
    assert _text(root, contact + "Name") == "Debitorenbuchhaltung"
    assert _text(root, contact + "Telephone") == "+49 30 9876543"
    assert _text(root, contact + "ElectronicMail") == "ar@muster-handel.example"


def test_a_credit_note_for_an_invoice_issued_before_peppol_ids_passes_every_rule(
    rules: Validator,
) -> None:
    # Given an invoice as stored before parties had participant ids and the seller a contact
    # (the sample InvoiceIssued event), read back
    invoice = invoicing.from_wire(json.loads(LEGACY_INVOICE.read_text())["detail"]["data"])
    assert invoice.seller.contact is None and invoice.buyer.endpoint is None

    # When the demo seller credits one unit of its first line
    note = invoicing.numbered(
        invoicing.credit_note(
            invoice,
            credit_note_id="cn_1",
            quantities={1: Decimal(1)},
            reason="Returned",
            issued_at=invoice.issued_at,
            seller=DEMO,
        ),
        1,
        DEMO,
    )

    # Then the note names the profile's contact and passes every rule; the stored invoice,
    # rendered again, lacks only the seller contact it was issued without
    assert note.seller.contact == DEMO.party.contact
    assert rules.fatal(render_ubl(note)) == []
    assert rules.rules_broken(render_ubl(invoice)) == {"DE-R-002"}


def test_a_document_without_order_or_purchase_order_names_the_customer_as_buyer_reference(
    rules: Validator,
) -> None:
    # Given a credit note whose invoice had neither an order nor a purchase order
    note = SAMPLES["credit_note"].model_copy(update={"order_id": None, "purchase_order": None})

    # When it is rendered
    xml = render_ubl(note)

    # Then the customer id is the buyer reference, there is no order reference, and it passes
    root = _parse(note)
    assert _text(root, "cbc:BuyerReference") == note.customer_id
    assert root.find("cac:OrderReference", NS) is None
    assert rules.fatal(xml) == []
