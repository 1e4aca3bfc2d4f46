"""The CII (UN/CEFACT D16B, EN 16931 profile) XML of invoices and credit notes, checked against
the CII D16B XSD and the CEN EN 16931 rules for CII (tests/unit/cii_validation.py)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from lxml import etree

from functions.invoicing.cii import GUIDELINE_ID, render_cii
from functions.invoicing.ubl import render_ubl
from shared.domain.invoice import DocumentKind, Invoice
from shared.domain.legacy_credit import CreditAmount
from tests.unit.cii_validation import cii_validator
from tests.unit.invoice_samples import ubl_samples
from tests.unit.test_legacy_credit import note_for

NS = {
    "rsm": "urn:un:unece:uncefact:data:standard:CrossIndustryInvoice:100",
    "ram": "urn:un:unece:uncefact:data:standard:ReusableAggregateBusinessInformationEntity:100",
    "udt": "urn:un:unece:uncefact:data:standard:UnqualifiedDataType:100",
    "qdt": "urn:un:unece:uncefact:data:standard:QualifiedDataType:100",
}
UBL = {
    "cac": "urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2",
    "cbc": "urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2",
}
SAMPLES = ubl_samples()
SETTLEMENT = "rsm:SupplyChainTradeTransaction/ram:ApplicableHeaderTradeSettlement/"
AGREEMENT = "rsm:SupplyChainTradeTransaction/ram:ApplicableHeaderTradeAgreement/"
TOTALS = SETTLEMENT + "ram:SpecifiedTradeSettlementHeaderMonetarySummation/ram:"


def _text(root: etree._Element, path: str, namespaces: dict[str, str] = NS) -> str:
    found = root.findtext(path, namespaces=namespaces)
    assert found is not None, path
    return found


def _migrated_credit_notes() -> dict[str, Invoice]:
    return {
        "migrated_domestic": note_for(
            CreditAmount("Price reduction", Decimal("100.00"), "standard"),
            CreditAmount("Exempt training", Decimal("60.00"), "exempt"),
        ),
        "migrated_intra_community": note_for(
            CreditAmount("Pallets returned", Decimal("100.00"), "standard"),
            CreditAmount("Installation", Decimal("40.00"), "standard", supply="services"),
            country="FR",
            tax_id="FR40303265045",
        ),
    }


EVERY_KIND = {**SAMPLES, **_migrated_credit_notes()}


@pytest.mark.parametrize("name", EVERY_KIND)
def test_every_kind_of_document_passes_the_cii_schema_and_the_en16931_rules(name: str) -> None:
    # Given a sample document (domestic multi-rate, exempt, AE, K, G, credit notes, unicode, ...)
    invoice = EVERY_KIND[name]

    # When it is rendered as CII
    xml = render_cii(invoice)

    # Then the D16B schema and the CEN EN 16931 rules find nothing fatal
    assert cii_validator().fatal(xml) == []


@pytest.mark.parametrize("name", SAMPLES)
def test_the_cii_carries_the_same_figures_as_the_ubl(name: str) -> None:
    # Given a sample rendered in both syntaxes
    invoice = SAMPLES[name]
    cii = etree.fromstring(render_cii(invoice))
    ubl = etree.fromstring(render_ubl(invoice))

    # Then number, dates, totals and the tax groups agree
    assert _text(cii, "rsm:ExchangedDocument/ram:ID") == _text(ubl, "cbc:ID", UBL)
    pairs = {
        "LineTotalAmount": "LineExtensionAmount",
        "TaxBasisTotalAmount": "TaxExclusiveAmount",
        "GrandTotalAmount": "TaxInclusiveAmount",
        "DuePayableAmount": "PayableAmount",
    }
    for cii_name, ubl_name in pairs.items():
        expected = _text(ubl, f"cac:LegalMonetaryTotal/cbc:{ubl_name}", UBL)
        assert _text(cii, TOTALS + cii_name) == expected
    tax_total = cii.find(TOTALS + "TaxTotalAmount", NS)
    assert tax_total is not None and tax_total.get("currencyID") == invoice.currency
    assert tax_total.text == _text(ubl, "cac:TaxTotal/cbc:TaxAmount", UBL)
    groups = [
        (
            _text(group, "ram:CategoryCode"),
            Decimal(_text(group, "ram:RateApplicablePercent")),
            Decimal(_text(group, "ram:BasisAmount")),
            Decimal(_text(group, "ram:CalculatedAmount")),
            group.findtext("ram:ExemptionReasonCode", namespaces=NS),
        )
        for group in cii.findall(SETTLEMENT + "ram:ApplicableTradeTax", NS)
    ]
    assert groups == [
        (g.tax_code.value, g.tax_rate, g.taxable_amount, g.tax_amount, g.exemption_reason_code)
        for g in invoice.taxes
    ]
    lines = cii.findall("rsm:SupplyChainTradeTransaction/ram:IncludedSupplyChainTradeLineItem", NS)
    assert [
        Decimal(_text(line, "ram:SpecifiedLineTradeDelivery/ram:BilledQuantity")) for line in lines
    ] == [line.quantity for line in invoice.lines]


def test_an_invoice_names_its_parties_payment_and_due_date() -> None:
    # Given the domestic invoice as CII
    invoice = SAMPLES["domestic"]
    root = etree.fromstring(render_cii(invoice))

    # Then it declares the EN 16931 profile and type 380
    guideline = "rsm:ExchangedDocumentContext/ram:GuidelineSpecifiedDocumentContextParameter/ram:ID"
    assert _text(root, guideline) == GUIDELINE_ID
    assert _text(root, "rsm:ExchangedDocument/ram:TypeCode") == "380"
    # And the parties with their VAT ids, electronic addresses and the seller's contact
    seller = AGREEMENT + "ram:SellerTradeParty/"
    assert _text(root, seller + "ram:SpecifiedTaxRegistration/ram:ID") == "DE123456789"
    address = root.find(seller + "ram:URIUniversalCommunication/ram:URIID", NS)
    assert address is not None and (address.get("schemeID"), address.text) == (
        "9930",
        "DE123456789",
    )
    assert _text(root, seller + "ram:DefinedTradeContact/ram:PersonName") == "Debitorenbuchhaltung"
    buyer_vat = AGREEMENT + "ram:BuyerTradeParty/ram:SpecifiedTaxRegistration/ram:ID"
    assert _text(root, buyer_vat) == invoice.buyer.tax_id
    assert _text(root, AGREEMENT + "ram:BuyerReference") == invoice.purchase_order
    # And SEPA credit transfer to the IBAN, the payment reference, the due date and terms
    means = SETTLEMENT + "ram:SpecifiedTradeSettlementPaymentMeans/"
    assert _text(root, means + "ram:TypeCode") == "58"
    assert invoice.payment is not None
    iban = means + "ram:PayeePartyCreditorFinancialAccount/ram:IBANID"
    assert _text(root, iban) == invoice.payment.iban
    assert _text(root, SETTLEMENT + "ram:PaymentReference") == invoice.payment_reference
    terms = SETTLEMENT + "ram:SpecifiedTradePaymentTerms/"
    assert invoice.due_on is not None
    due = terms + "ram:DueDateDateTime/udt:DateTimeString"
    assert _text(root, due) == invoice.due_on.strftime("%Y%m%d")
    assert "Early payment discount" in _text(root, terms + "ram:Description")


def test_a_credit_note_names_the_invoice_it_credits_and_clears_against_it() -> None:
    # Given a credit note as CII
    note = SAMPLES["credit_note"]
    root = etree.fromstring(render_cii(note))

    # Then it is type 381 with the credited invoice and its issue date (BT-25, BT-26)
    assert note.kind is DocumentKind.CREDIT_NOTE
    assert _text(root, "rsm:ExchangedDocument/ram:TypeCode") == "381"
    credited = SETTLEMENT + "ram:InvoiceReferencedDocument/"
    assert _text(root, credited + "ram:IssuerAssignedID") == note.credited_invoice_number
    assert note.credited_invoice_issued_on is not None
    issued = credited + "ram:FormattedIssueDateTime/qdt:DateTimeString"
    assert _text(root, issued) == note.credited_invoice_issued_on.strftime("%Y%m%d")
    # And its payment means is clearing (97), with amounts positive
    means = SETTLEMENT + "ram:SpecifiedTradeSettlementPaymentMeans/ram:TypeCode"
    assert _text(root, means) == "97"
    assert Decimal(_text(root, TOTALS + "GrandTotalAmount")) == note.total > 0


def test_an_intra_community_supply_carries_the_deliver_to_address_and_date() -> None:
    # Given goods delivered to a Dutch business's warehouse
    invoice = SAMPLES["intra_community_nl"]
    root = etree.fromstring(render_cii(invoice))

    # Then the deliver-to country and the date of supply are there (BR-IC-11, BR-IC-12)
    delivery = "rsm:SupplyChainTradeTransaction/ram:ApplicableHeaderTradeDelivery/"
    assert invoice.delivered_to is not None and invoice.delivered_on is not None
    country = delivery + "ram:ShipToTradeParty/ram:PostalTradeAddress/ram:CountryID"
    assert _text(root, country) == invoice.delivered_to.country
    occurred = delivery + "ram:ActualDeliverySupplyChainEvent/ram:OccurrenceDateTime/"
    assert _text(root, occurred + "udt:DateTimeString") == invoice.delivered_on.strftime("%Y%m%d")
    reason = SETTLEMENT + "ram:ApplicableTradeTax/ram:ExemptionReasonCode"
    assert _text(root, reason) == "VATEX-EU-IC"


def test_a_seller_without_a_vat_id_makes_the_rules_fire() -> None:
    # Given the domestic invoice of a seller that lost its VAT id and electronic address
    invoice = SAMPLES["domestic"]
    seller = invoice.seller.model_copy(update={"tax_id": None, "endpoint": None})

    # When it is validated
    broken = cii_validator().rules_broken(render_cii(invoice.model_copy(update={"seller": seller})))

    # Then the rules requiring the seller's VAT id for standard-rated supplies fire
    assert "BR-S-02" in broken


def test_a_wrong_total_makes_the_rules_fire() -> None:
    # Given the domestic invoice with its grand total altered
    xml = render_cii(SAMPLES["domestic"])
    root = etree.fromstring(xml)
    total = root.find(TOTALS + "GrandTotalAmount", NS)
    assert total is not None and total.text is not None
    total.text = str(Decimal(total.text) + 1)

    # When it is validated
    broken = cii_validator().rules_broken(etree.tostring(root, xml_declaration=True))

    # Then the total rules fire (BR-CO-15: grand total = net total + VAT)
    assert "BR-CO-15" in broken


def test_an_element_out_of_schema_order_is_rejected_by_the_xsd() -> None:
    # Given a valid invoice whose document TypeCode is moved in front of its ID
    root = etree.fromstring(render_cii(SAMPLES["domestic"]))
    document = root.find("rsm:ExchangedDocument", NS)
    assert document is not None
    type_code = document.find("ram:TypeCode", NS)
    assert type_code is not None
    document.remove(type_code)
    document.insert(0, type_code)

    # When it is validated
    failures = cii_validator().fatal(etree.tostring(root))

    # Then the schema rejects it
    assert failures and failures[0].rule == "XSD"
