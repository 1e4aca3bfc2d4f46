"""VAT: which regime a sale falls under, how each line is taxed, and the document's breakdown.

The rules model a seller established in the EU:

- seller and buyer in the same country: domestic VAT at the seller's rates;
- buyer in another member state with a VAT id: goods dispatched there are an intra-community
  supply (K, exempt in the seller's state: Article 138 of Directive 2006/112/EC), services are
  under the reverse charge (AE); either way the buyer accounts for the VAT;
- buyer outside the EU: export (G), no VAT charged;
- a consumer (no VAT id) in another member state: the seller's domestic VAT. Distance-selling
  thresholds and the One-Stop Shop (destination-country rates) are out of scope.

Tax is computed per breakdown group (code and rate) on the group's taxable amount and rounded
half-up once (EN 16931 BR-CO-17), never per line: three lines of 0.35 at 19 % owe 0.20, not 0.21.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from pydantic import ConfigDict

from shared.domain.invoice_parts import InvoiceLine, TaxBreakdown, TaxCode
from shared.domain.money import quantize
from shared.model import Model

if TYPE_CHECKING:
    from shared.domain.seller import Seller

EU_COUNTRIES = frozenset(
    "AT BE BG CY CZ DE DK EE ES FI FR GR HR HU IE IT LT LU LV MT NL PL PT RO SE SI SK".split()  # noqa: SIM905 (a table reads better)
)
CATEGORIES = ("standard", "reduced", "zero", "exempt")
SUPPLIES = ("goods", "services")
REVERSE_CHARGE_REASON = "Reverse charge"
INTRA_COMMUNITY_REASON = "Intra-community supply"
EXPORT_REASON = "Export outside the EU"
_CODE_ORDER = {code: position for position, code in enumerate(TaxCode)}
_UNTAXED = {  # code -> (exemption reason, VATEX code)
    TaxCode.INTRA_COMMUNITY: (INTRA_COMMUNITY_REASON, "VATEX-EU-IC"),
    TaxCode.REVERSE_CHARGE: (REVERSE_CHARGE_REASON, "VATEX-EU-AE"),
    TaxCode.EXPORT: (EXPORT_REASON, "VATEX-EU-G"),
}


class TaxRegime(StrEnum):
    DOMESTIC = "domestic"
    INTRA_EU_BUSINESS = "intra_eu_business"  # a business in another member state
    EXPORT = "export"


class LineTax(Model):
    """How one line is taxed; E, AE, K and G lines say why no VAT is charged."""

    model_config = ConfigDict(frozen=True)

    tax_code: TaxCode
    rate: Decimal
    exemption_reason: str | None = None
    exemption_reason_code: str | None = None

    def line_fields(self) -> dict[str, Any]:
        """The ``InvoiceLine`` fields this decides."""
        return {
            "tax_code": self.tax_code,
            "tax_rate": self.rate,
            "tax_exemption_reason": self.exemption_reason,
            "tax_exemption_reason_code": self.exemption_reason_code,
        }


def regime(seller_country: str, buyer_country: str, buyer_tax_id: str | None) -> TaxRegime:
    """The regime of a sale from ``seller_country`` to a buyer in ``buyer_country``."""
    seller, buyer = seller_country.upper(), buyer_country.upper()
    if seller == buyer:
        return TaxRegime.DOMESTIC
    if buyer not in EU_COUNTRIES:
        return TaxRegime.EXPORT
    if seller in EU_COUNTRIES and _registered_elsewhere(buyer_tax_id, seller):
        return TaxRegime.INTRA_EU_BUSINESS
    return TaxRegime.DOMESTIC


def _registered_elsewhere(buyer_tax_id: str | None, seller_country: str) -> bool:
    """Does the buyer hold a VAT id, of a state other than the seller's? (A buyer registered
    in the seller's own state buys goods sent abroad at the seller's VAT: Article 138(1)(b).)"""
    vat_id = (buyer_tax_id or "").strip().upper()
    prefix = "GR" if vat_id.startswith("EL") else vat_id[:2]
    return bool(vat_id) and prefix != seller_country


def classify(category: str, regime: TaxRegime, seller: Seller, *, supply: str = "goods") -> LineTax:
    """The tax code and rate of an item of ``category`` (a ``supply`` of goods or services)
    sold under ``regime``."""
    if category not in CATEGORIES:
        raise ValueError(f"unknown tax category '{category}' (expected one of {CATEGORIES})")
    if supply not in SUPPLIES:
        raise ValueError(f"unknown supply '{supply}' (expected one of {SUPPLIES})")
    if regime is TaxRegime.INTRA_EU_BUSINESS:
        code = TaxCode.INTRA_COMMUNITY if supply == "goods" else TaxCode.REVERSE_CHARGE
        return _untaxed(code)
    if regime is TaxRegime.EXPORT:
        return _untaxed(TaxCode.EXPORT)
    if category == "zero":
        return LineTax(tax_code=TaxCode.ZERO, rate=Decimal(0))
    if category == "exempt":
        # Which exemption applies (VATEX-EU-132, -143, ...) depends on the goods: print the
        # seller's reason text only rather than a code that may be wrong.
        return LineTax(
            tax_code=TaxCode.EXEMPT, rate=Decimal(0), exemption_reason=seller.exemption_reason
        )
    return LineTax(tax_code=TaxCode.STANDARD, rate=seller.tax_rates[category])


def _untaxed(code: TaxCode) -> LineTax:
    """A line of no VAT here, with why (reason and VATEX code)."""
    reason, vatex = _UNTAXED[code]
    return LineTax(
        tax_code=code, rate=Decimal(0), exemption_reason=reason, exemption_reason_code=vatex
    )


def group_key(code: TaxCode, rate: Decimal) -> tuple[int, Decimal]:
    """Breakdown order: by code (S, Z, E, AE, K, G), then by rate, highest first."""
    return _CODE_ORDER[code], -rate


def group_tax(taxable: Decimal, rate: Decimal, currency: str) -> Decimal:
    return quantize(taxable * rate / 100, currency)


def breakdown(lines: Sequence[InvoiceLine], currency: str) -> tuple[TaxBreakdown, ...]:
    """One group per (code, rate): the lines' net amounts summed, the tax rounded once."""
    groups: dict[tuple[TaxCode, Decimal], list[InvoiceLine]] = {}
    for line in lines:
        groups.setdefault((line.tax_code, line.tax_rate), []).append(line)
    result = []
    for (code, rate), members in sorted(groups.items(), key=lambda item: group_key(*item[0])):
        taxable = quantize(sum((line.net_amount for line in members), Decimal(0)), currency)
        result.append(
            TaxBreakdown(
                tax_code=code,
                tax_rate=rate,
                taxable_amount=taxable,
                tax_amount=group_tax(taxable, rate, currency),
                exemption_reason=members[0].tax_exemption_reason,
                exemption_reason_code=members[0].tax_exemption_reason_code,
            )
        )
    return tuple(result)
