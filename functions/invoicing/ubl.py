"""The UBL 2.1 XML of an invoice or credit note, following Peppol BIS Billing 3.0.

Invoices are ``Invoice`` documents (type code 380), credit notes ``CreditNote`` documents (type
code 381) that reference the invoice they credit. Elements are written in the order the UBL 2.1
schema's sequences require (the XSD rejects any other order), and only those Peppol BIS 3.0
allows, so the document validates against both the OASIS schema and the Peppol rules.

A document whose buyer has no electronic address (neither a participant id nor a VAT id in a
Peppol scheme) cannot travel over Peppol (PEPPOL-EN16931-R010): it is sent by e-mail only, and
says so by declaring the EN 16931 core specification instead of Peppol BIS (no Peppol profile),
so a receiver's validator applies the rules of what it is.

Amounts carry their currency and the currency's minor-unit digits (EN 16931 allows no more);
unit prices keep the precision they were priced with (up to 6 decimals). Parties are addressed
by their Peppol participant id (EndpointID with its EAS scheme), the buyer's derived from its VAT
id when it has none of its own. The seller names its contact (BG-6); the date of supply is
the last shipment's (ActualDeliveryDate), the deliver-to address the order's ship-to or the
buyer's (an intra-community supply needs both: BR-IC-11, BR-IC-12). Credit notes name the
credited invoice with its issue date (BT-25, BT-26) and say the credit is cleared against that
invoice (payment means 97).

Built with the standard library's ElementTree, so the worker needs no XML dependency.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import date
from decimal import Decimal

from functions.invoicing import xml_values as values
from shared.domain import peppol
from shared.domain.invoice import (
    DocumentKind,
    Invoice,
    InvoiceLine,
    Party,
    PartyAddress,
    TaxBreakdown,
)
from shared.domain.text import scrub

CUSTOMIZATION_ID = "urn:cen.eu:en16931:2017#compliant#urn:fdc:peppol.eu:2017:poacc:billing:3.0"
PROFILE_ID = "urn:fdc:peppol.eu:2017:poacc:billing:01:1.0"
EN16931_CUSTOMIZATION_ID = "urn:cen.eu:en16931:2017"  # the core standard: e-mail only
INVOICE_TYPE_CODE = "380"  # UNCL 1001: commercial invoice
CREDIT_NOTE_TYPE_CODE = "381"  # UNCL 1001: credit note
SEPA_CREDIT_TRANSFER = "58"  # UNCL 4461
CLEARING_BETWEEN_PARTNERS = "97"  # UNCL 4461: a credit note is set off against its invoice
VAT = "VAT"

INVOICE_NS = "urn:oasis:names:specification:ubl:schema:xsd:Invoice-2"
CREDIT_NOTE_NS = "urn:oasis:names:specification:ubl:schema:xsd:CreditNote-2"
CAC = "urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2"
CBC = "urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2"

ET.register_namespace("cac", CAC)
ET.register_namespace("cbc", CBC)

CONTENT_TYPE = "application/xml"
XML_DECLARATION = b'<?xml version="1.0" encoding="UTF-8"?>\n'


def render_ubl(invoice: Invoice) -> bytes:
    """The document as UTF-8 XML with an XML declaration."""
    is_note = invoice.kind is DocumentKind.CREDIT_NOTE
    namespace = CREDIT_NOTE_NS if is_note else INVOICE_NS
    # The root's namespace is declared as the default one by hand: ElementTree's own
    # default_namespace option refuses the unqualified attributes (currencyID, unitCode).
    root = ET.Element("CreditNote" if is_note else "Invoice", {"xmlns": namespace})
    _header(root, invoice, is_note, peppol=for_peppol(invoice))
    _party(_cac(root, "AccountingSupplierParty"), invoice.seller, seller=True)
    _party(_cac(root, "AccountingCustomerParty"), invoice.buyer, seller=False)
    _delivery(root, invoice)
    if is_note:
        _clearing(root, invoice)
    elif invoice.payment is not None:
        _payment_means(root, invoice)
    if note := values.payment_terms(invoice):
        _cbc(_cac(root, "PaymentTerms"), "Note", note)
    _tax_total(root, invoice)
    _monetary_total(root, invoice)
    for line in invoice.lines:
        _line(root, invoice, line, is_note)
    ET.indent(root, space="  ")
    return XML_DECLARATION + ET.tostring(root, encoding="unicode").encode()


# --- document level -------------------------------------------------------------------------


def for_peppol(invoice: Invoice) -> bool:
    """Can the document travel over Peppol (both parties have an electronic address)?"""
    return all(values.endpoint(party) for party in (invoice.seller, invoice.buyer))


def _header(root: ET.Element, invoice: Invoice, is_note: bool, *, peppol: bool) -> None:
    if peppol:
        _cbc(root, "CustomizationID", CUSTOMIZATION_ID)
        _cbc(root, "ProfileID", PROFILE_ID)
    else:
        _cbc(root, "CustomizationID", EN16931_CUSTOMIZATION_ID)
    _cbc(root, "ID", invoice.number)
    _cbc(root, "IssueDate", _day(invoice.issued_on))
    if is_note:
        _cbc(root, "CreditNoteTypeCode", CREDIT_NOTE_TYPE_CODE)
    else:
        if invoice.due_on is not None:
            _cbc(root, "DueDate", _day(invoice.due_on))
        _cbc(root, "InvoiceTypeCode", INVOICE_TYPE_CODE)
    if is_note and invoice.reason:
        _cbc(root, "Note", invoice.reason)
    _cbc(root, "DocumentCurrencyCode", invoice.currency)
    # Peppol wants a buyer reference or a purchase order reference (PEPPOL-EN16931-R003), and
    # German buyers the buyer reference (DE-R-015): the purchase order when the buyer gave one,
    # else our order id, which the buyer also knows, else (no order) its customer id with us.
    _cbc(root, "BuyerReference", invoice.purchase_order or invoice.order_id or invoice.customer_id)
    if invoice.purchase_order or invoice.order_id:
        reference = _cac(root, "OrderReference")
        # "NA" is Peppol's purchase order reference when only the sales order is known.
        _cbc(reference, "ID", invoice.purchase_order or "NA")
        if invoice.order_id:
            _cbc(reference, "SalesOrderID", invoice.order_id)
    if is_note and invoice.credited_invoice_number:
        credited = _cac(_cac(root, "BillingReference"), "InvoiceDocumentReference")
        _cbc(credited, "ID", invoice.credited_invoice_number)
        if invoice.credited_invoice_issued_on is not None:
            _cbc(credited, "IssueDate", _day(invoice.credited_invoice_issued_on))


def _delivery(root: ET.Element, invoice: Invoice) -> None:
    """The date of supply (BT-72) and the deliver-to address (BG-15), as far as known."""
    if invoice.delivered_on is None and invoice.delivered_to is None:
        return
    delivery = _cac(root, "Delivery")
    if invoice.delivered_on is not None:
        _cbc(delivery, "ActualDeliveryDate", _day(invoice.delivered_on))
    if invoice.delivered_to is not None:
        _address(_cac(_cac(delivery, "DeliveryLocation"), "Address"), invoice.delivered_to)


def _address(element: ET.Element, address: PartyAddress) -> None:
    _cbc(element, "StreetName", address.line1)
    if address.line2:
        _cbc(element, "AdditionalStreetName", address.line2)
    _cbc(element, "CityName", address.city)
    _cbc(element, "PostalZone", address.postal_code)
    if address.region:
        _cbc(element, "CountrySubentity", address.region)
    _cbc(_cac(element, "Country"), "IdentificationCode", address.country)


def _party(role: ET.Element, party: Party, *, seller: bool) -> None:
    element = _cac(role, "Party")
    if endpoint := values.endpoint(party):
        eas, identifier = peppol.parse(endpoint)
        _cbc(element, "EndpointID", identifier, schemeID=eas)
    if not seller and party.party_id:
        _cbc(_cac(element, "PartyIdentification"), "ID", party.party_id)
    _address(_cac(element, "PostalAddress"), party.address)
    if party.tax_id:
        scheme = _cac(element, "PartyTaxScheme")
        _cbc(scheme, "CompanyID", party.tax_id)
        _cbc(_cac(scheme, "TaxScheme"), "ID", VAT)
    legal = _cac(element, "PartyLegalEntity")
    _cbc(legal, "RegistrationName", party.name)
    if seller and party.party_id:
        _cbc(legal, "CompanyID", party.party_id)
    if seller and party.contact is not None:
        contact = _cac(element, "Contact")
        _cbc(contact, "Name", party.contact.name)
        _cbc(contact, "Telephone", party.contact.phone)
        _cbc(contact, "ElectronicMail", party.contact.email)


def _payment_means(root: ET.Element, invoice: Invoice) -> None:
    assert invoice.payment is not None
    means = _cac(root, "PaymentMeans")
    _cbc(means, "PaymentMeansCode", SEPA_CREDIT_TRANSFER)
    if invoice.payment_reference:
        _cbc(means, "PaymentID", invoice.payment_reference)
    account = _cac(means, "PayeeFinancialAccount")
    _cbc(account, "ID", invoice.payment.iban)
    _cbc(account, "Name", invoice.payment.account_name)
    if invoice.payment.bic:
        _cbc(_cac(account, "FinancialInstitutionBranch"), "ID", invoice.payment.bic)


def _clearing(root: ET.Element, invoice: Invoice) -> None:
    """A credit note's payment means: set off against the credited invoice's receivable."""
    means = _cac(root, "PaymentMeans")
    _cbc(means, "PaymentMeansCode", CLEARING_BETWEEN_PARTNERS)
    if invoice.credited_invoice_number:
        _cbc(means, "PaymentID", invoice.credited_invoice_number)


def _tax_total(root: ET.Element, invoice: Invoice) -> None:
    total = _cac(root, "TaxTotal")
    _money(total, "TaxAmount", invoice.tax_total, invoice.currency)
    for group in invoice.taxes:
        subtotal = _cac(total, "TaxSubtotal")
        _money(subtotal, "TaxableAmount", group.taxable_amount, invoice.currency)
        _money(subtotal, "TaxAmount", group.tax_amount, invoice.currency)
        _tax_category(_cac(subtotal, "TaxCategory"), group)


def _tax_category(category: ET.Element, group: TaxBreakdown) -> None:
    _cbc(category, "ID", group.tax_code.value)
    _cbc(category, "Percent", values.number(group.tax_rate))
    if group.exemption_reason_code:
        _cbc(category, "TaxExemptionReasonCode", group.exemption_reason_code)
    if group.exemption_reason:
        _cbc(category, "TaxExemptionReason", group.exemption_reason)
    _cbc(_cac(category, "TaxScheme"), "ID", VAT)


def _monetary_total(root: ET.Element, invoice: Invoice) -> None:
    totals = _cac(root, "LegalMonetaryTotal")
    line_total = sum((line.net_amount for line in invoice.lines), Decimal(0))
    for name, amount in (
        ("LineExtensionAmount", line_total),
        ("TaxExclusiveAmount", invoice.net_total),
        ("TaxInclusiveAmount", invoice.total),
        ("PayableAmount", invoice.total),
    ):
        _money(totals, name, amount, invoice.currency)


# --- lines ------------------------------------------------------------------------------------


def _line(root: ET.Element, invoice: Invoice, line: InvoiceLine, is_note: bool) -> None:
    element = _cac(root, "CreditNoteLine" if is_note else "InvoiceLine")
    _cbc(element, "ID", str(line.line_no))
    quantity = "CreditedQuantity" if is_note else "InvoicedQuantity"
    _cbc(element, quantity, values.number(line.quantity), unitCode=line.unit)
    _money(element, "LineExtensionAmount", line.net_amount, invoice.currency)
    if line.order_line_no is not None and invoice.order_id:
        _cbc(_cac(element, "OrderLineReference"), "LineID", str(line.order_line_no))
    item = _cac(element, "Item")
    _cbc(item, "Name", line.name)
    if line.sku:  # amounts credited on a migrated invoice name no item
        _cbc(_cac(item, "SellersItemIdentification"), "ID", line.sku)
    category = _cac(item, "ClassifiedTaxCategory")
    _cbc(category, "ID", line.tax_code.value)
    _cbc(category, "Percent", values.number(line.tax_rate))
    _cbc(_cac(category, "TaxScheme"), "ID", VAT)
    price = values.unit_price(line.unit_price, invoice.currency)
    _cbc(_cac(element, "Price"), "PriceAmount", price, currencyID=invoice.currency)


# --- values -----------------------------------------------------------------------------------


def _day(day: date) -> str:
    return day.isoformat()


# --- elements ---------------------------------------------------------------------------------


def _cac(parent: ET.Element, name: str) -> ET.Element:
    return ET.SubElement(parent, f"{{{CAC}}}{name}")


def _cbc(parent: ET.Element, name: str, text: str, **attributes: str) -> ET.Element:
    """Every text and attribute goes through ``scrub``: stored text from before the domain
    refused control characters must not make the document ill-formed."""
    written = {key: scrub(value) for key, value in attributes.items()}
    element = ET.SubElement(parent, f"{{{CBC}}}{name}", written)
    element.text = scrub(text)
    return element


def _money(parent: ET.Element, name: str, amount: Decimal, currency: str) -> ET.Element:
    return _cbc(parent, name, values.amount(amount, currency), currencyID=currency)
