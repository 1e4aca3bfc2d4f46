"""The UN/CEFACT Cross Industry Invoice (CII D16B) of an invoice or credit note, EN 16931 profile.

This is the XML a Factur-X 1.0 / ZUGFeRD 2.x PDF carries (``facturx.py`` embeds it): the same
document as the UBL of ``ubl.py``, in the other syntax EN 16931 allows, with the same figures
(``xml_values``). It declares the EN 16931 core (guideline ``urn:cen.eu:en16931:2017``), which
is Factur-X's EN 16931 conformance level.

Invoices are type 380, credit notes type 381 with positive amounts naming the credited invoice
and its issue date (BT-25, BT-26) and cleared against it (payment means 97). Elements follow the
order the D16B schema's sequences require; only the EN 16931 subset is written.

Built with the standard library's ElementTree, like the UBL.
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

GUIDELINE_ID = "urn:cen.eu:en16931:2017"  # EN 16931 core: Factur-X / ZUGFeRD profile EN 16931
INVOICE_TYPE_CODE = "380"  # UNCL 1001: commercial invoice
CREDIT_NOTE_TYPE_CODE = "381"  # UNCL 1001: credit note
SEPA_CREDIT_TRANSFER = "58"  # UNCL 4461
CLEARING_BETWEEN_PARTNERS = "97"  # UNCL 4461: a credit note is set off against its invoice
VAT = "VAT"
VAT_REGISTRATION = "VA"  # the scheme of a VAT identifier (BT-31, BT-48)
DATE_FORMAT = "102"  # UNTDID 2379: CCYYMMDD

RSM = "urn:un:unece:uncefact:data:standard:CrossIndustryInvoice:100"
RAM = "urn:un:unece:uncefact:data:standard:ReusableAggregateBusinessInformationEntity:100"
UDT = "urn:un:unece:uncefact:data:standard:UnqualifiedDataType:100"
QDT = "urn:un:unece:uncefact:data:standard:QualifiedDataType:100"

ET.register_namespace("rsm", RSM)
ET.register_namespace("ram", RAM)
ET.register_namespace("udt", UDT)
ET.register_namespace("qdt", QDT)

XML_DECLARATION = b'<?xml version="1.0" encoding="UTF-8"?>\n'


def render_cii(invoice: Invoice) -> bytes:
    """The document as UTF-8 XML with an XML declaration."""
    is_note = invoice.kind is DocumentKind.CREDIT_NOTE
    root = ET.Element(f"{{{RSM}}}CrossIndustryInvoice")
    context = ET.SubElement(root, f"{{{RSM}}}ExchangedDocumentContext")
    _ram(_ram(context, "GuidelineSpecifiedDocumentContextParameter"), "ID", GUIDELINE_ID)
    _document(ET.SubElement(root, f"{{{RSM}}}ExchangedDocument"), invoice, is_note)
    transaction = ET.SubElement(root, f"{{{RSM}}}SupplyChainTradeTransaction")
    for line in invoice.lines:
        _line(transaction, invoice, line)
    _agreement(_ram(transaction, "ApplicableHeaderTradeAgreement"), invoice)
    _delivery(_ram(transaction, "ApplicableHeaderTradeDelivery"), invoice)
    _settlement(_ram(transaction, "ApplicableHeaderTradeSettlement"), invoice, is_note)
    ET.indent(root, space="  ")
    return XML_DECLARATION + ET.tostring(root, encoding="unicode").encode()


# --- document level -------------------------------------------------------------------------


def _document(element: ET.Element, invoice: Invoice, is_note: bool) -> None:
    _ram(element, "ID", invoice.number)
    _ram(element, "TypeCode", CREDIT_NOTE_TYPE_CODE if is_note else INVOICE_TYPE_CODE)
    _date(_ram(element, "IssueDateTime"), invoice.issued_on)
    if is_note and invoice.reason:
        _ram(_ram(element, "IncludedNote"), "Content", invoice.reason)


def _agreement(agreement: ET.Element, invoice: Invoice) -> None:
    # The same buyer reference as the UBL's: the purchase order, else our order id, else the
    # buyer's customer id with us.
    reference = invoice.purchase_order or invoice.order_id or invoice.customer_id
    _ram(agreement, "BuyerReference", reference)
    _party(_ram(agreement, "SellerTradeParty"), invoice.seller, seller=True)
    _party(_ram(agreement, "BuyerTradeParty"), invoice.buyer, seller=False)
    if invoice.order_id:
        _ram(_ram(agreement, "SellerOrderReferencedDocument"), "IssuerAssignedID", invoice.order_id)
    if invoice.purchase_order:
        ordered = _ram(agreement, "BuyerOrderReferencedDocument")
        _ram(ordered, "IssuerAssignedID", invoice.purchase_order)


def _party(element: ET.Element, party: Party, *, seller: bool) -> None:
    if not seller and party.party_id:
        _ram(element, "ID", party.party_id)
    _ram(element, "Name", party.name)
    if seller and party.party_id:
        _ram(_ram(element, "SpecifiedLegalOrganization"), "ID", party.party_id)
    if seller and party.contact is not None:
        contact = _ram(element, "DefinedTradeContact")
        _ram(contact, "PersonName", party.contact.name)
        phone = _ram(contact, "TelephoneUniversalCommunication")
        _ram(phone, "CompleteNumber", party.contact.phone)
        _ram(_ram(contact, "EmailURIUniversalCommunication"), "URIID", party.contact.email)
    _address(_ram(element, "PostalTradeAddress"), party.address)
    if endpoint := values.endpoint(party):
        eas, identifier = peppol.parse(endpoint)
        _ram(_ram(element, "URIUniversalCommunication"), "URIID", identifier, schemeID=eas)
    if party.tax_id:
        registration = _ram(element, "SpecifiedTaxRegistration")
        _ram(registration, "ID", party.tax_id, schemeID=VAT_REGISTRATION)


def _address(element: ET.Element, address: PartyAddress) -> None:
    _ram(element, "PostcodeCode", address.postal_code)
    _ram(element, "LineOne", address.line1)
    if address.line2:
        _ram(element, "LineTwo", address.line2)
    _ram(element, "CityName", address.city)
    _ram(element, "CountryID", address.country)
    if address.region:
        _ram(element, "CountrySubDivisionName", address.region)


def _delivery(delivery: ET.Element, invoice: Invoice) -> None:
    """The deliver-to address (BG-15) and the date of supply (BT-72), as far as known."""
    if invoice.delivered_to is not None:
        ship_to = _ram(delivery, "ShipToTradeParty")
        _address(_ram(ship_to, "PostalTradeAddress"), invoice.delivered_to)
    if invoice.delivered_on is not None:
        event = _ram(delivery, "ActualDeliverySupplyChainEvent")
        _date(_ram(event, "OccurrenceDateTime"), invoice.delivered_on)


def _settlement(settlement: ET.Element, invoice: Invoice, is_note: bool) -> None:
    remittance = invoice.credited_invoice_number if is_note else invoice.payment_reference
    if remittance and (is_note or invoice.payment is not None):
        _ram(settlement, "PaymentReference", remittance)
    _ram(settlement, "InvoiceCurrencyCode", invoice.currency)
    if is_note:
        means = _ram(settlement, "SpecifiedTradeSettlementPaymentMeans")
        _ram(means, "TypeCode", CLEARING_BETWEEN_PARTNERS)
    elif invoice.payment is not None:
        _payment_means(settlement, invoice)
    for group in invoice.taxes:
        _header_tax(_ram(settlement, "ApplicableTradeTax"), group, invoice.currency)
    note = values.payment_terms(invoice)
    if note or invoice.due_on is not None:
        terms = _ram(settlement, "SpecifiedTradePaymentTerms")
        if note:
            _ram(terms, "Description", note)
        if invoice.due_on is not None:
            _date(_ram(terms, "DueDateDateTime"), invoice.due_on)
    _totals(_ram(settlement, "SpecifiedTradeSettlementHeaderMonetarySummation"), invoice)
    if is_note and invoice.credited_invoice_number:
        credited = _ram(settlement, "InvoiceReferencedDocument")
        _ram(credited, "IssuerAssignedID", invoice.credited_invoice_number)
        if invoice.credited_invoice_issued_on is not None:
            issued = _ram(credited, "FormattedIssueDateTime")
            _date(issued, invoice.credited_invoice_issued_on, namespace=QDT)


def _payment_means(settlement: ET.Element, invoice: Invoice) -> None:
    assert invoice.payment is not None
    means = _ram(settlement, "SpecifiedTradeSettlementPaymentMeans")
    _ram(means, "TypeCode", SEPA_CREDIT_TRANSFER)
    account = _ram(means, "PayeePartyCreditorFinancialAccount")
    _ram(account, "IBANID", invoice.payment.iban)
    _ram(account, "AccountName", invoice.payment.account_name)
    if invoice.payment.bic:
        institution = _ram(means, "PayeeSpecifiedCreditorFinancialInstitution")
        _ram(institution, "BICID", invoice.payment.bic)


def _header_tax(tax: ET.Element, group: TaxBreakdown, currency: str) -> None:
    _ram(tax, "CalculatedAmount", values.amount(group.tax_amount, currency))
    _ram(tax, "TypeCode", VAT)
    if group.exemption_reason:
        _ram(tax, "ExemptionReason", group.exemption_reason)
    _ram(tax, "BasisAmount", values.amount(group.taxable_amount, currency))
    _ram(tax, "CategoryCode", group.tax_code.value)
    if group.exemption_reason_code:
        _ram(tax, "ExemptionReasonCode", group.exemption_reason_code)
    _ram(tax, "RateApplicablePercent", values.number(group.tax_rate))


def _totals(totals: ET.Element, invoice: Invoice) -> None:
    currency = invoice.currency
    line_total = sum((line.net_amount for line in invoice.lines), Decimal(0))
    _ram(totals, "LineTotalAmount", values.amount(line_total, currency))
    _ram(totals, "TaxBasisTotalAmount", values.amount(invoice.net_total, currency))
    # The VAT total (BT-110) is the one amount that names its currency.
    tax_total = values.amount(invoice.tax_total, currency)
    _ram(totals, "TaxTotalAmount", tax_total, currencyID=currency)
    _ram(totals, "GrandTotalAmount", values.amount(invoice.total, currency))
    _ram(totals, "DuePayableAmount", values.amount(invoice.total, currency))


# --- lines ------------------------------------------------------------------------------------


def _line(transaction: ET.Element, invoice: Invoice, line: InvoiceLine) -> None:
    element = _ram(transaction, "IncludedSupplyChainTradeLineItem")
    _ram(_ram(element, "AssociatedDocumentLineDocument"), "LineID", str(line.line_no))
    product = _ram(element, "SpecifiedTradeProduct")
    if line.sku:  # amounts credited on a migrated invoice name no item
        _ram(product, "SellerAssignedID", line.sku)
    _ram(product, "Name", line.name)
    agreement = _ram(element, "SpecifiedLineTradeAgreement")
    if line.order_line_no is not None and invoice.order_id:
        _ram(_ram(agreement, "BuyerOrderReferencedDocument"), "LineID", str(line.order_line_no))
    price = values.unit_price(line.unit_price, invoice.currency)
    _ram(_ram(agreement, "NetPriceProductTradePrice"), "ChargeAmount", price)
    delivery = _ram(element, "SpecifiedLineTradeDelivery")
    _ram(delivery, "BilledQuantity", values.number(line.quantity), unitCode=line.unit)
    settlement = _ram(element, "SpecifiedLineTradeSettlement")
    tax = _ram(settlement, "ApplicableTradeTax")
    _ram(tax, "TypeCode", VAT)
    _ram(tax, "CategoryCode", line.tax_code.value)
    _ram(tax, "RateApplicablePercent", values.number(line.tax_rate))
    summation = _ram(settlement, "SpecifiedTradeSettlementLineMonetarySummation")
    _ram(summation, "LineTotalAmount", values.amount(line.net_amount, invoice.currency))


# --- elements ---------------------------------------------------------------------------------


def _ram(parent: ET.Element, name: str, text: str | None = None, **attributes: str) -> ET.Element:
    """A ``ram:`` element; text and attributes go through ``scrub`` (stored text from before
    the domain refused control characters must not make the document ill-formed)."""
    written = {key: scrub(value) for key, value in attributes.items()}
    element = ET.SubElement(parent, f"{{{RAM}}}{name}", written)
    if text is not None:
        element.text = scrub(text)
    return element


def _date(parent: ET.Element, day: date, *, namespace: str = UDT) -> None:
    stamp = ET.SubElement(parent, f"{{{namespace}}}DateTimeString", {"format": DATE_FORMAT})
    stamp.text = day.strftime("%Y%m%d")
