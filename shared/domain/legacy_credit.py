"""A credit note for an invoice migrated from the legacy system: amounts, not lines.

A migrated invoice is known by its number, dates and amounts only: no lines, no tax breakdown.
Its credit note states what it credits as amounts, each with a description, a net amount, a tax
category and what it was a supply of (goods unless it says services). VAT follows the seller's
rates and the regime between the seller and the customer as billed today, as for a new invoice.

The note is the credit note of the invoice those amounts make (``credit_note`` crediting all of
it), issued to the customer as billed now; it names the migrated invoice's number and issue date
(BT-25, BT-26), that issue date as the date of supply (the best the migration knows) and the
billing address as the deliver-to address. All the notes of a migrated invoice credit at most
its opening balance (what these books took over); what a note credits beyond the amount still
open is owed to the customer, as for any credit note.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING

from shared.domain import invoice as invoice_domain
from shared.domain import tax
from shared.domain.invoice import CreditError, Invoice, InvoiceLine, InvoiceStatus
from shared.domain.money import quantize

if TYPE_CHECKING:
    from shared.domain.customer import Customer
    from shared.domain.seller import Seller

UNIT = "C62"  # UN/ECE rec 20 "one": an amount credited once


@dataclass(frozen=True)
class CreditAmount:
    description: str
    net_amount: Decimal
    tax_category: str  # standard | reduced | zero | exempt
    supply: str = "goods"  # goods | services


def credit_note(
    migrated: Invoice,
    *,
    customer: Customer,
    seller: Seller,
    amounts: Sequence[CreditAmount],
    credit_note_id: str,
    reason: str,
    issued_at: datetime,
) -> Invoice:
    """An unnumbered credit note for ``amounts`` of the migrated invoice (see the module notes);
    ``CreditError`` naming the amount (``line_no``: its position from 1) when one does not fit.
    """
    currency = migrated.currency
    buyer = invoice_domain.billed_party(customer)
    regime = tax.regime(seller.country, buyer.address.country, customer.tax_id)
    lines = []
    for position, amount in enumerate(amounts, start=1):
        net = quantize(amount.net_amount, currency)
        if net != amount.net_amount or net <= 0:
            raise CreditError(
                f"a net amount above 0 in whole {currency} minor units, not {amount.net_amount}",
                line_no=position,
                field="net_amount",
            )
        taxed = tax.classify(amount.tax_category, regime, seller, supply=amount.supply)
        lines.append(
            InvoiceLine(
                line_no=position,
                order_line_no=None,
                sku="",
                name=amount.description,
                unit=UNIT,
                quantity=Decimal(1),
                unit_price=net,
                net_amount=net,
                tax_category=amount.tax_category,
                **taxed.line_fields(),
            )
        )
    taxes = tax.breakdown(lines, currency)
    net_total = sum((group.taxable_amount for group in taxes), Decimal(0))
    tax_total = sum((group.tax_amount for group in taxes), Decimal(0))
    creditable = migrated.total - migrated.amount_credited
    if net_total + tax_total > creditable:
        raise CreditError(
            f"these amounts credit {net_total + tax_total} {currency}; invoice "
            f"{migrated.number} has {creditable} {currency} left to credit",
            field="amounts",
        )
    billed = migrated.model_copy(
        update={
            "seller": seller.party,
            "buyer": buyer,
            "payment": seller.payment,
            "lines": tuple(lines),
            "taxes": taxes,
            "net_total": net_total,
            "tax_total": tax_total,
            "total": net_total + tax_total,
            "delivered_on": migrated.issued_on,
            "delivered_to": buyer.address,
            "credited_quantities": {},
            "credited_taxes": (),
            "status": InvoiceStatus.OPEN,
        }
    )
    return invoice_domain.credit_note(
        billed,
        credit_note_id=credit_note_id,
        quantities=None,
        reason=reason,
        issued_at=issued_at,
        seller=seller,
    )


def credited(migrated: Invoice, note: Invoice) -> Invoice:
    """The migrated invoice's receivable after ``note``: credited, due and status anew."""
    if note.credited_invoice_id != migrated.invoice_id:
        raise CreditError(f"{note.invoice_id} does not credit invoice {migrated.invoice_id}")
    return invoice_domain.settled(migrated, amount_credited=migrated.amount_credited + note.total)
