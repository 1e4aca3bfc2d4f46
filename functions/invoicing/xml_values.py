"""Values as both e-invoice syntaxes write them (UBL in ``ubl.py``, CII in ``cii.py``).

One place for how an amount, a price, a quantity, the payment terms and a party's electronic
address are written, so the two documents of an invoice always carry the same figures.
"""

from __future__ import annotations

from decimal import Decimal

from shared.domain import peppol
from shared.domain.invoice import Invoice, Party
from shared.domain.money import minor_units, quantize


def amount(value: Decimal, currency: str) -> str:
    """With exactly the currency's minor-unit digits (BR-DEC rules of EN 16931)."""
    return format(quantize(value, currency), "f")


def unit_price(price: Decimal, currency: str) -> str:
    """At least the currency's minor-unit digits, more only when the price has them."""
    digits = minor_units(currency)
    exponent = price.normalize().as_tuple().exponent
    if isinstance(exponent, int) and -exponent > digits:
        return format(price.normalize(), "f")
    return amount(price, currency)


def number(value: Decimal) -> str:
    """A quantity or percentage without trailing zeros: 3, 2.5, 19."""
    text = format(value.normalize(), "f")
    return "0" if text in ("-0", "") else text


def endpoint(party: Party) -> str | None:
    """The party's electronic address (Peppol participant id), its VAT id's when it has none."""
    return party.endpoint or peppol.from_vat_id(party.tax_id)


def payment_terms(invoice: Invoice) -> str | None:
    """Terms as printed, with the early-payment discount spelled out (neither syntax's core has
    a field for it)."""
    parts = [invoice.terms.rstrip(".") + "."] if invoice.terms else []
    if invoice.discount_until is not None and invoice.discount_amount > 0:
        discount = amount(invoice.discount_amount, invoice.currency)
        parts.append(
            f"Early payment discount of {discount} {invoice.currency} "
            f"if paid by {invoice.discount_until.isoformat()}."
        )
    return " ".join(parts) or None
