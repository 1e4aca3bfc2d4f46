"""The parts an invoice is made of: its parties, lines and tax groups (and their tax codes).

Apart from ``shared.domain.invoice`` so that what reads them (taxes, the seller's profile) does
not import the invoice, which builds its documents from them.
"""

from __future__ import annotations

from decimal import Decimal
from enum import StrEnum

from pydantic import ConfigDict

from shared.model import Model


class TaxCode(StrEnum):
    """UNCL 5305 duty/tax/fee category codes as Peppol BIS Billing 3.0 uses them."""

    STANDARD = "S"  # standard or reduced rate (the rate tells them apart)
    ZERO = "Z"  # zero-rated goods
    EXEMPT = "E"  # exempt from tax
    REVERSE_CHARGE = "AE"  # VAT reverse charge: the buyer accounts for the VAT
    INTRA_COMMUNITY = "K"  # intra-community supply of goods to a business in another EU state
    EXPORT = "G"  # free export item, tax not charged (outside the EU)


class PartyAddress(Model):
    model_config = ConfigDict(frozen=True)

    line1: str
    line2: str | None = None
    city: str
    postal_code: str
    region: str | None = None
    country: str  # ISO 3166-1 alpha-2


class PartyContact(Model):
    """Whom the buyer asks about the document (the seller contact, BG-6 of EN 16931)."""

    model_config = ConfigDict(frozen=True)

    name: str
    phone: str
    email: str


class Party(Model):
    """Seller or buyer as the document names them (a snapshot taken at issue)."""

    model_config = ConfigDict(frozen=True)

    name: str
    address: PartyAddress
    tax_id: str | None = None  # VAT identifier, with its country prefix (e.g. DE123456789)
    email: str | None = None
    party_id: str | None = None  # the buyer's customer id; the seller's registration id
    endpoint: str | None = None  # Peppol participant id, scheme:identifier (shared.domain.peppol)
    contact: PartyContact | None = None


class PaymentInstructions(Model):
    """How to pay the seller: credit transfer to this account, quoting the payment reference."""

    model_config = ConfigDict(frozen=True)

    iban: str
    bic: str | None = None
    account_name: str


class InvoiceLine(Model):
    model_config = ConfigDict(frozen=True)

    line_no: int  # 1.. within the document
    order_line_no: int | None  # the order line it bills (None on amount-only credit lines)
    sku: str
    name: str
    unit: str  # UN/ECE rec 20 code
    quantity: Decimal
    unit_price: Decimal  # net, up to 6 decimals, as priced on the order
    net_amount: Decimal  # quantity x unit_price, half-up to the minor unit
    tax_category: str  # the item's category: standard | reduced | zero | exempt
    tax_code: TaxCode
    tax_rate: Decimal  # percent, e.g. Decimal("19")
    tax_exemption_reason: str | None = None  # why no VAT is charged (E, AE, K, G lines)
    tax_exemption_reason_code: str | None = None  # VATEX code, when one applies
    invoice_line_no: int | None = None  # credit note lines: the invoice line they credit


class TaxBreakdown(Model):
    """One EN 16931 VAT breakdown group (BG-23): all lines with the same code and rate."""

    model_config = ConfigDict(frozen=True)

    tax_code: TaxCode
    tax_rate: Decimal
    taxable_amount: Decimal
    tax_amount: Decimal
    exemption_reason: str | None = None  # required for E, AE, K, G (BR-E-10, BR-AE-10, ...)
    exemption_reason_code: str | None = None  # VATEX code, e.g. VATEX-EU-AE
