"""Invoices and credit notes: the legal documents the seller issues, and what is still owed.

An invoice bills what one shipment carried (or, for customers invoiced per order, what the whole
order carried once fully shipped). Its lines, taxes, totals, dates and parties are fixed when it
is issued and never change: corrections are credit notes, with their own number series, that
reference the invoice. What does change is the receivable's state: how much was credited, paid,
and is still due, and the status that follows from it.

Amounts are Decimal in the invoice's currency: each line's net amount is quantity x unit price
rounded half-up to the currency's minor unit; tax is computed per tax breakdown group (category
code and rate) on the group's taxable amount, as EN 16931 requires (BR-CO-17), so the document
totals add up exactly: total = net total + tax total.

Credit notes credit quantities of invoice lines. What a line has had credited so far is
credited at cumulative amounts: a note takes ``round(credited after x price) - round(credited
before x price)``, and the same per tax group for the tax, so however an invoice is credited in
parts, crediting all of it credits exactly its lines, groups and total: never a cent left over
or a cent too much.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from pydantic import ConfigDict

from shared import clock
from shared.domain import numbering, peppol, terms
from shared.domain.events import DomainEvent
from shared.domain.invoice_parts import (  # noqa: F401 (imported from here)
    InvoiceLine,
    Party,
    PartyAddress,
    PartyContact,
    PaymentInstructions,
    TaxBreakdown,
    TaxCode,
)
from shared.domain.money import Money, quantize
from shared.domain.write_off import WriteOff, WriteOffKind
from shared.model import Model

if TYPE_CHECKING:
    from shared.domain.customer import Customer
    from shared.domain.order import Order
    from shared.domain.payment import Allocation
    from shared.domain.seller import Seller

SOURCE = "otc.invoicing"


class DocumentKind(StrEnum):
    INVOICE = "invoice"
    CREDIT_NOTE = "credit_note"


class InvoiceStatus(StrEnum):
    OPEN = "open"  # issued, nothing paid
    PARTIALLY_PAID = "partially_paid"
    PAID = "paid"
    CREDITED = "credited"  # fully credited (a void is a full credit note before any payment)
    DISPUTED = "disputed"
    ISSUED = "issued"  # credit notes: issued (they are not receivables)
    WRITTEN_OFF = "written_off"  # nothing due, and a bad-debt write-off took part of it


class CashTakenBack(Model):
    """A part of an allocation's cash taken back (a refund, a dispute) while the rest stays."""

    model_config = ConfigDict(frozen=True)

    amount: Decimal
    at: datetime


class CashApplied(Model):
    """One payment allocation's cash on an invoice: what it settled (cash and discount) still in
    force, since when, until when it was taken back whole (``reversed_at``), and each part taken
    back before that. Interest runs on what no allocation settled on a day."""

    model_config = ConfigDict(frozen=True)

    allocation_id: str
    applied_at: datetime
    amount: Decimal  # cash still applied (the parts taken back are not) plus the discount
    reversed_at: datetime | None = None
    taken_back: tuple[CashTakenBack, ...] = ()

    def to_stored(self) -> dict[str, Any]:
        return {
            "id": self.allocation_id,
            "at": clock.iso(self.applied_at),
            "amount": str(self.amount),
            "until": clock.iso(self.reversed_at) if self.reversed_at else None,
            "back": [{"amount": str(p.amount), "at": clock.iso(p.at)} for p in self.taken_back],
        }

    @classmethod
    def from_stored(cls, data: Mapping[str, Any]) -> CashApplied:
        until = data.get("until")
        return cls(
            allocation_id=data["id"],
            applied_at=clock.parse(data["at"]),
            amount=Decimal(str(data["amount"])),
            reversed_at=clock.parse(until) if until else None,
            taken_back=tuple(
                CashTakenBack(amount=Decimal(str(part["amount"])), at=clock.parse(part["at"]))
                for part in data.get("back", ())
            ),
        )


class Invoice(Model):
    """An issued invoice or credit note, and (for invoices) the state of its receivable."""

    model_config = ConfigDict(frozen=True)

    invoice_id: str
    kind: DocumentKind
    number: str  # gap-free within its series, e.g. INV-2026-000123 / CN-2026-000007
    series: str  # e.g. INV-2026
    customer_id: str
    order_id: str | None
    shipment_ids: tuple[str, ...]
    purchase_order: str | None
    currency: str
    seller: Party
    buyer: Party
    payment: PaymentInstructions | None
    lines: tuple[InvoiceLine, ...]
    taxes: tuple[TaxBreakdown, ...]
    net_total: Decimal
    tax_total: Decimal
    total: Decimal  # net_total + tax_total: what the document asks for (credits, for notes)
    issued_on: date
    issued_at: datetime
    due_on: date | None  # None on credit notes
    terms: str | None  # as printed: "Net 30", "2/10 net 30"
    discount_until: date | None
    discount_amount: Decimal  # early-payment discount on ``total`` (0 without one)
    payment_reference: str  # what the buyer quotes when paying (ISO 11649 RF reference)
    credited_invoice_id: str | None = None  # credit notes: the invoice they correct
    credited_invoice_number: str | None = None
    credited_invoice_issued_on: date | None = None
    delivered_on: date | None = None  # date of supply: the last shipment billed
    delivered_to: PartyAddress | None = None  # deliver-to address (BG-15): where the goods went
    reason: str | None = None  # credit notes: why
    # The receivable (invoices only; credit notes keep zeros and status ``issued``)
    amount_credited: Decimal = Decimal(0)
    amount_paid: Decimal = Decimal(0)
    amount_discounted: Decimal = Decimal(0)  # early-payment discount taken on allocations
    amount_due: Decimal = Decimal(0)
    status: InvoiceStatus = InvoiceStatus.OPEN
    version: int = 1
    # What credit notes took so far: quantity per invoice line_no, and taxable and tax per group
    credited_quantities: dict[int, Decimal] = {}
    credited_taxes: tuple[TaxBreakdown, ...] = ()
    # Write-offs (small differences at cash application, bad debts), reversed ones included
    amount_written_off: Decimal = Decimal(0)  # what the write-offs in force took off
    write_offs: tuple[WriteOff, ...] = ()
    # Credit its credit notes gave the customer that a payment taken back no longer funds, and
    # that the customer had already used: owed again (see ``reclaim``)
    amount_reclaimed: Decimal = Decimal(0)
    # Every payment allocation's cash on it, as the interest on it needs them (kept by cash
    # application with the allocations themselves); None: not known (an item written before the
    # store kept them), read from the payments instead
    cash_applied: tuple[CashApplied, ...] | None = ()

    def money(self, amount: Decimal) -> dict[str, str]:
        return Money(amount=amount, currency=self.currency).to_wire()

    def to_wire(self) -> dict[str, Any]:
        """The API's view (GET /invoices/{id}); amounts as decimal strings with the currency."""
        return {
            "id": self.invoice_id,
            "kind": self.kind.value,
            "number": self.number,
            "series": self.series,
            "customer_id": self.customer_id,
            "order_id": self.order_id,
            "shipment_ids": list(self.shipment_ids),
            "purchase_order": self.purchase_order,
            "currency": self.currency,
            "seller": self.seller.model_dump(),
            "buyer": self.buyer.model_dump(),
            "payment": self.payment.model_dump() if self.payment else None,
            "lines": [
                {
                    **line.model_dump(mode="json"),
                    "quantity": str(line.quantity),
                    "unit_price": str(line.unit_price),
                    "net_amount": str(line.net_amount),
                    "tax_rate": str(line.tax_rate),
                }
                for line in self.lines
            ],
            "taxes": [_tax_wire(tax) for tax in self.taxes],
            "net_total": self.money(self.net_total),
            "tax_total": self.money(self.tax_total),
            "total": self.money(self.total),
            "issued_on": self.issued_on.isoformat(),
            "issued_at": clock.iso(self.issued_at),
            "due_on": self.due_on.isoformat() if self.due_on else None,
            "terms": self.terms,
            "discount_until": self.discount_until.isoformat() if self.discount_until else None,
            "discount_amount": self.money(self.discount_amount),
            "payment_reference": self.payment_reference,
            "credited_invoice_id": self.credited_invoice_id,
            "credited_invoice_number": self.credited_invoice_number,
            "credited_invoice_issued_on": _iso_day(self.credited_invoice_issued_on),
            "delivered_on": _iso_day(self.delivered_on),
            "delivered_to": self.delivered_to.model_dump() if self.delivered_to else None,
            "reason": self.reason,
            "amount_credited": self.money(self.amount_credited),
            "amount_paid": self.money(self.amount_paid),
            "amount_discounted": self.money(self.amount_discounted),
            "amount_due": self.money(self.amount_due),
            "status": self.status.value,
            "version": self.version,
            "credited_quantities": {
                str(line_no): str(quantity)
                for line_no, quantity in sorted(self.credited_quantities.items())
            },
            "credited_taxes": [_tax_wire(tax) for tax in self.credited_taxes],
            "amount_written_off": self.money(self.amount_written_off),
            "write_offs": [item.to_wire(self.currency) for item in self.write_offs],
            "amount_reclaimed": self.money(self.amount_reclaimed),
        }

    def write_off(self, write_off_id: str) -> WriteOff | None:
        return next((w for w in self.write_offs if w.write_off_id == write_off_id), None)


def _iso_day(day: date | None) -> str | None:
    return day.isoformat() if day else None


def _tax_wire(tax: TaxBreakdown) -> dict[str, Any]:
    return {
        **tax.model_dump(mode="json"),
        "tax_rate": str(tax.tax_rate),
        "taxable_amount": str(tax.taxable_amount),
        "tax_amount": str(tax.tax_amount),
    }


class CreditError(ValueError):
    """A credit note that does not fit the invoice (the API answers 422 naming the line)."""

    def __init__(self, detail: str, *, line_no: int | None = None, field: str | None = None):
        super().__init__(detail)
        self.detail, self.line_no, self.field = detail, line_no, field


# --- issuing ------------------------------------------------------------------------------------


def draft(
    *,
    invoice_id: str,
    customer: Customer,
    seller: Seller,
    order: Order,
    quantities: Mapping[int, int],
    shipment_ids: Sequence[str],
    issued_at: datetime,
    delivered_on: date | None = None,
) -> Invoice:
    """An unnumbered invoice billing ``quantities`` (order line_no -> units) of ``order``.

    Lines keep the order's prices; tax follows the regime between the seller's country and the
    buyer's billing country; due date and early-payment discount follow the customer's terms.
    The number, series and payment reference come with ``numbered`` when the invoice is issued.
    """
    from shared.domain import tax  # tax reads this module's models

    if customer.customer_id != order.customer_id:
        raise ValueError(f"order {order.order_id} belongs to {order.customer_id}")
    currency = order.currency
    by_number = {line.line_no: line for line in order.lines}
    for line_no, quantity in sorted(quantities.items()):
        line = by_number.get(line_no)
        if line is None:
            raise ValueError(f"order {order.order_id} has no line {line_no}")
        if not 0 <= quantity <= line.quantity:
            raise ValueError(f"line {line_no}: cannot bill {quantity} of {line.quantity} units")
    billed = [(line_no, quantity) for line_no, quantity in sorted(quantities.items()) if quantity]
    if not billed:
        raise ValueError("an invoice bills at least one unit")
    buyer = _buyer(customer, order)
    delivered_to = (
        PartyAddress(**order.ship_to.model_dump(exclude={"name"}))
        if order.ship_to
        else buyer.address
    )
    # Goods are taxed by where they go, services by where the buyer is established.
    sales = {
        "goods": tax.regime(seller.country, delivered_to.country, customer.tax_id),
        "services": tax.regime(seller.country, buyer.address.country, customer.tax_id),
    }
    lines = []
    for index, (line_no, quantity) in enumerate(billed, start=1):
        ordered = by_number[line_no]
        supply = ordered.supply
        line_tax = tax.classify(ordered.tax_category, sales[supply], seller, supply=supply)
        lines.append(
            InvoiceLine(
                line_no=index,
                order_line_no=line_no,
                sku=ordered.sku,
                name=ordered.name,
                unit=ordered.unit,
                quantity=Decimal(quantity),
                unit_price=ordered.unit_price,
                net_amount=quantize(quantity * ordered.unit_price, currency),
                tax_category=ordered.tax_category,
                **line_tax.line_fields(),
            )
        )
    taxes = tax.breakdown(lines, currency)
    net_total, tax_total = _totals(taxes)
    total = net_total + tax_total
    if total <= 0:
        raise ValueError("an invoice asks for an amount above 0")
    moment = _utc_millis(issued_at)
    plan = terms.schedule(
        customer.payment_terms, moment.date(), Money(amount=total, currency=currency)
    )
    return Invoice(
        invoice_id=invoice_id,
        kind=DocumentKind.INVOICE,
        number="",
        series="",
        customer_id=customer.customer_id,
        order_id=order.order_id,
        shipment_ids=tuple(shipment_ids),
        purchase_order=order.purchase_order,
        currency=currency,
        seller=seller.party,
        buyer=buyer,
        payment=seller.payment,
        lines=tuple(lines),
        taxes=taxes,
        net_total=net_total,
        tax_total=tax_total,
        total=total,
        issued_on=moment.date(),
        issued_at=moment,
        delivered_on=delivered_on or moment.date(),  # nothing shipped: supplied when billed
        delivered_to=delivered_to,
        due_on=plan.due_on,
        terms=customer.payment_terms.label(),
        discount_until=plan.discount_until,
        discount_amount=plan.discount.amount,
        payment_reference="",
        amount_due=total,
        status=InvoiceStatus.OPEN,
    )


def numbered(draft: Invoice, sequence: int, seller: Seller) -> Invoice:
    """The draft with its number (``sequence`` in the series of its kind and issue year)."""
    if draft.number:
        raise ValueError(f"{draft.invoice_id} is numbered already ({draft.number})")
    prefix = (
        seller.invoice_prefix if draft.kind is DocumentKind.INVOICE else seller.credit_note_prefix
    )
    in_series = numbering.series(prefix, draft.issued_on)
    assigned = numbering.number(in_series, sequence)
    return draft.model_copy(
        update={
            "series": in_series,
            "number": assigned,
            "payment_reference": numbering.payment_reference(assigned),
        }
    )


# --- corrections --------------------------------------------------------------------------------


def credit_note(
    invoice: Invoice,
    *,
    credit_note_id: str,
    quantities: Mapping[int, Decimal] | None,
    reason: str,
    issued_at: datetime,
    seller: Seller | None = None,
) -> Invoice:
    """An unnumbered credit note for ``quantities`` (invoice line_no -> quantity) of ``invoice``.

    The note names the invoice's seller; the ``seller`` profile completes what invoices issued
    before sellers had a contact and a Peppol participant id lack (same VAT id only).

    ``None`` credits everything not yet credited (a full credit; before any payment, a void).
    Lines keep the invoice's unit prices, tax codes and rates; amounts are cumulative
    differences (see the module notes), so the note that credits the rest credits exactly what
    remains of every line and tax group.
    """
    from shared.domain import tax

    if invoice.kind is not DocumentKind.INVOICE:
        raise CreditError(f"{invoice.invoice_id} is a credit note; only invoices are credited")
    if not invoice.number:
        raise CreditError(f"{invoice.invoice_id} is not issued; a draft needs no credit note")
    remaining = {line.line_no: _remaining(invoice, line) for line in invoice.lines}
    if invoice.status is InvoiceStatus.CREDITED or not any(remaining.values()):
        raise CreditError(f"invoice {invoice.number} is fully credited")
    crediting = _crediting(invoice, remaining, quantities)
    by_number = {line.line_no: line for line in invoice.lines}
    lines = []
    for index, (line_no, quantity) in enumerate(sorted(crediting.items()), start=1):
        line = by_number[line_no]
        before = line.quantity - remaining[line_no]
        net = _cumulative_net(line, before + quantity, invoice.currency) - _cumulative_net(
            line, before, invoice.currency
        )
        lines.append(
            line.model_copy(
                update={
                    "line_no": index,
                    "quantity": quantity,
                    "net_amount": net,
                    "invoice_line_no": line_no,
                }
            )
        )
    done = {
        line.line_no
        for line in invoice.lines
        if remaining[line.line_no] == crediting.get(line.line_no, 0)
    }
    taxes = tuple(
        _credited_group(invoice, group, done) for group in tax.breakdown(lines, invoice.currency)
    )
    net_total, tax_total = _totals(taxes)
    if net_total + tax_total <= 0:
        raise CreditError(
            "these lines are worth nothing; there is nothing to credit", field="lines"
        )
    moment = _utc_millis(issued_at)
    return invoice.model_copy(
        update={
            "invoice_id": credit_note_id,
            "kind": DocumentKind.CREDIT_NOTE,
            "seller": _completed(invoice.seller, seller),
            "number": "",
            "series": "",
            "payment": None,
            "lines": tuple(lines),
            "taxes": taxes,
            "net_total": net_total,
            "tax_total": tax_total,
            "total": net_total + tax_total,
            "issued_on": moment.date(),
            "issued_at": moment,
            "due_on": None,
            "terms": None,
            "discount_until": None,
            "discount_amount": quantize(Decimal(0), invoice.currency),
            "payment_reference": "",
            "credited_invoice_id": invoice.invoice_id,
            "credited_invoice_number": invoice.number,
            "credited_invoice_issued_on": invoice.issued_on,
            "reason": reason,
            "delivered_on": invoice.delivered_on,  # the supply the note corrects
            "delivered_to": invoice.delivered_to,
            "amount_credited": Decimal(0),
            "amount_paid": Decimal(0),
            "amount_discounted": Decimal(0),
            "amount_due": Decimal(0),
            "status": InvoiceStatus.ISSUED,
            "version": 1,
            "credited_quantities": {},
            "credited_taxes": (),
        }
    )


def apply_credit(invoice: Invoice, note: Invoice) -> Invoice:
    """The invoice after ``note``: what it credited recorded, the amount due and status anew."""
    from shared.domain import tax

    if note.kind is not DocumentKind.CREDIT_NOTE or note.credited_invoice_id != invoice.invoice_id:
        raise CreditError(f"{note.invoice_id} does not credit invoice {invoice.invoice_id}")
    by_number = {line.line_no: line for line in invoice.lines}
    quantities = dict(invoice.credited_quantities)
    for line in note.lines:
        line_no = line.invoice_line_no
        if line_no is None or line_no not in by_number:
            raise CreditError(f"{note.invoice_id} credits no line of {invoice.invoice_id}")
        quantities[line_no] = quantities.get(line_no, Decimal(0)) + line.quantity
        if quantities[line_no] > by_number[line_no].quantity:
            raise CreditError(
                f"line {line_no}: credited beyond its quantity", line_no=line_no, field="quantity"
            )
    groups = {(group.tax_code, group.tax_rate): group for group in invoice.credited_taxes}
    for group in note.taxes:
        key = (group.tax_code, group.tax_rate)
        if key in groups:
            group = group.model_copy(  # noqa: PLW2901 (the sum replaces the note's group)
                update={
                    "taxable_amount": groups[key].taxable_amount + group.taxable_amount,
                    "tax_amount": groups[key].tax_amount + group.tax_amount,
                }
            )
        groups[key] = group
    credited_taxes = tuple(groups[key] for key in sorted(groups, key=lambda k: tax.group_key(*k)))
    return settled(
        invoice,
        amount_credited=invoice.amount_credited + note.total,
        credited_quantities=quantities,
        credited_taxes=credited_taxes,
    )


def record_payment(invoice: Invoice, amount: Decimal, *, discount: Decimal = Decimal(0)) -> Invoice:
    """The invoice after ``amount`` was applied to it (and ``discount`` granted for paying early).

    What a payment brings beyond the amount due is not applied: it stays unapplied cash.
    """
    if invoice.kind is not DocumentKind.INVOICE:
        raise ValueError(f"{invoice.invoice_id} is a credit note; payments apply to invoices")
    if amount < 0 or discount < 0 or amount + discount <= 0:
        raise ValueError("a payment applies an amount above 0 (and a discount of 0 or more)")
    if amount + discount > invoice.amount_due:
        raise ValueError(
            f"{amount + discount} exceeds the {invoice.amount_due} due on {invoice.invoice_id}"
        )
    return settled(
        invoice,
        amount_paid=invoice.amount_paid + amount,
        amount_discounted=invoice.amount_discounted + discount,
    )


def reverse_payment(
    invoice: Invoice, amount: Decimal, *, discount: Decimal = Decimal(0)
) -> Invoice:
    """The invoice after an allocation of ``amount`` (and ``discount``) was taken back.

    The receivable reopens by what the allocation had settled: a paid invoice becomes partially
    paid or open again (or stays disputed while a dispute holds).
    """
    if invoice.kind is not DocumentKind.INVOICE:
        raise ValueError(f"{invoice.invoice_id} is a credit note; payments apply to invoices")
    if amount < 0 or discount < 0 or amount + discount <= 0:
        raise ValueError("a reversal takes back an amount above 0 (and a discount of 0 or more)")
    if amount > invoice.amount_paid or discount > invoice.amount_discounted:
        raise ValueError(
            f"{invoice.invoice_id} has {invoice.amount_paid} paid and "
            f"{invoice.amount_discounted} discounted; cannot take back {amount} and {discount}"
        )
    return settled(
        invoice,
        amount_paid=invoice.amount_paid - amount,
        amount_discounted=invoice.amount_discounted - discount,
    )


def cash_of(allocation: Allocation) -> CashApplied:
    """What a payment allocation to an invoice settles on it, and since and until when."""
    return CashApplied(
        allocation_id=allocation.allocation_id,
        applied_at=allocation.applied_at,
        amount=allocation.applied + allocation.discount,
        reversed_at=allocation.reversed_at,
        taken_back=tuple(
            CashTakenBack(amount=part.amount, at=part.at) for part in allocation.taken_back
        ),
    )


def with_cash_applied(invoice: Invoice, applied: Sequence[CashApplied]) -> Invoice:
    """The invoice with these allocations' cash as they stand now (each replacing the one of
    the same allocation it had); one whose cash is not known (None) stays so."""
    if invoice.cash_applied is None or not applied:
        return invoice
    current = {cash.allocation_id: cash for cash in invoice.cash_applied}
    current |= {cash.allocation_id: cash for cash in applied}
    ordered = sorted(current.values(), key=lambda cash: (cash.applied_at, cash.allocation_id))
    return invoice.model_copy(update={"cash_applied": tuple(ordered)})


def reclaim(invoice: Invoice, amount: Decimal) -> Invoice:
    """The invoice owed ``amount`` again that its credit notes had given the customer as credit.

    A credit note that took off more than the invoice had open (it was partly or fully paid)
    turned the rest into credit for the customer. When the payment behind that is taken back
    (a bank reversal, a refund, a chargeback), the credit still held goes back onto the invoice;
    what the customer had already used or been paid of it is owed again on the invoice.
    """
    if amount <= 0:
        raise ValueError("a reclaim is of an amount above 0")
    return settled(invoice, amount_reclaimed=invoice.amount_reclaimed + amount)


def dispute(invoice: Invoice, open: bool) -> Invoice:
    """The invoice while a payment applied to it is contested (``open``), or once it is not.

    A disputed invoice is ``disputed`` even when that payment paid it in full: the money may go
    back, and collections leave it alone meanwhile. Closing the dispute gives the invoice back
    the status its amounts say.
    """
    if invoice.kind is not DocumentKind.INVOICE:
        raise ValueError(f"{invoice.invoice_id} is a credit note; only invoices are disputed")
    if open:
        if invoice.status in (InvoiceStatus.CREDITED, InvoiceStatus.DISPUTED):
            return invoice
        status = InvoiceStatus.DISPUTED
    else:
        if invoice.status is not InvoiceStatus.DISPUTED:
            return invoice
        status = status_of(invoice.model_copy(update={"status": InvoiceStatus.OPEN}))
    return invoice.model_copy(update={"status": status, "version": invoice.version + 1})


def status_of(invoice: Invoice) -> InvoiceStatus:
    """The receivable's status from its amounts (a dispute holds while something is due)."""
    if invoice.kind is DocumentKind.CREDIT_NOTE:
        return InvoiceStatus.ISSUED
    if invoice.amount_credited >= invoice.total and invoice.amount_due == 0:
        return InvoiceStatus.CREDITED
    if invoice.amount_due == 0:
        bad_debt = any(w.active and w.kind is WriteOffKind.BAD_DEBT for w in invoice.write_offs)
        return InvoiceStatus.WRITTEN_OFF if bad_debt else InvoiceStatus.PAID
    if invoice.status is InvoiceStatus.DISPUTED:
        return InvoiceStatus.DISPUTED
    if invoice.amount_paid > 0 or invoice.amount_discounted > 0:
        return InvoiceStatus.PARTIALLY_PAID
    return InvoiceStatus.OPEN


def write_off(invoice: Invoice, written_off: WriteOff) -> Invoice:
    """The invoice after ``written_off`` took its amount off the amount due."""
    if invoice.kind is not DocumentKind.INVOICE:
        raise ValueError(f"{invoice.invoice_id} is a credit note; only invoices are written off")
    if not Decimal(0) < written_off.amount <= invoice.amount_due:
        raise ValueError(
            f"a write-off of {written_off.amount} exceeds the {invoice.amount_due} due on "
            f"{invoice.invoice_id}"
        )
    if invoice.write_off(written_off.write_off_id) is not None:
        raise ValueError(f"{written_off.write_off_id} is written off already")
    return settled(
        invoice,
        amount_written_off=invoice.amount_written_off + written_off.amount,
        write_offs=(*invoice.write_offs, written_off),
    )


def reverse_write_off(
    invoice: Invoice,
    write_off_id: str,
    *,
    at: datetime,
    by: str,
    reason: str,
    reversal_id: str | None = None,
) -> tuple[Invoice, WriteOff]:
    """The invoice with a write-off reversed (its amount is due again), and the write-off."""
    found = invoice.write_off(write_off_id)
    if found is None:
        raise LookupError(f"invoice {invoice.invoice_id} has no write-off {write_off_id}")
    if not found.active:
        raise ValueError(f"write-off {write_off_id} was reversed already")
    reversed_ = found.model_copy(
        update={
            "reversed_at": _utc_millis(at),
            "reversed_by": by,
            "reversal_reason": reason,
            "reversal_id": reversal_id,
        }
    )
    reopened = settled(
        invoice,
        amount_written_off=invoice.amount_written_off - found.amount,
        write_offs=tuple(
            reversed_ if w.write_off_id == write_off_id else w for w in invoice.write_offs
        ),
    )
    return reopened, reversed_


# --- events -------------------------------------------------------------------------------------


def issued_event(doc: Invoice) -> DomainEvent:
    """InvoiceIssued or CreditNoteIssued, carrying the whole document."""
    kind = "InvoiceIssued" if doc.kind is DocumentKind.INVOICE else "CreditNoteIssued"
    return DomainEvent(
        detail_type=kind,
        source=SOURCE,
        aggregate_id=doc.invoice_id,
        occurred_at=doc.issued_at,
        data=doc.to_wire(),
    )


def credited_event(invoice: Invoice, note: Invoice) -> DomainEvent:
    """InvoiceCredited: the invoice after ``note``, and which note credited how much."""
    return DomainEvent(
        detail_type="InvoiceCredited",
        source=SOURCE,
        aggregate_id=invoice.invoice_id,
        occurred_at=note.issued_at,
        data={
            **invoice.to_wire(),
            "credit_note_id": note.invoice_id,
            "credit_note_number": note.number,
            "amount": note.money(note.total),
        },
    )


def write_off_event(detail_type: str, invoice: Invoice, written_off: WriteOff) -> DomainEvent:
    """WriteOffPosted / WriteOffReversed: the invoice after it, and the write-off."""
    at = written_off.reversed_at or written_off.written_off_at
    return DomainEvent(
        detail_type=detail_type,
        source=SOURCE,
        aggregate_id=invoice.invoice_id,
        occurred_at=at,
        data={
            **invoice.to_wire(),
            "write_off": written_off.to_wire(invoice.currency),
            # what a partner subscribed to write-offs gets (shared.domain.webhooks)
            "write_off_id": written_off.write_off_id,
            "invoice_id": invoice.invoice_id,
            "invoice_number": invoice.number,
            "amount": {"amount": str(written_off.amount), "currency": invoice.currency},
            "reason": (written_off.reversal_reason or written_off.reason)
            if written_off.reversed_at
            else written_off.reason,
        },
    )


# --- wire ---------------------------------------------------------------------------------------


def from_wire(data: Mapping[str, Any]) -> Invoice:
    """Read back what ``Invoice.to_wire`` wrote (the store and the document worker use it)."""

    def amount(key: str) -> Decimal:
        return Decimal(data[key]["amount"])

    def day(key: str) -> date | None:
        value = data.get(key)
        return date.fromisoformat(value) if value else None

    payment = data.get("payment")
    return Invoice(
        invoice_id=data["id"],
        kind=DocumentKind(data["kind"]),
        number=data["number"],
        series=data.get("series", ""),
        customer_id=data["customer_id"],
        order_id=data.get("order_id"),
        shipment_ids=tuple(data.get("shipment_ids", ())),
        purchase_order=data.get("purchase_order"),
        currency=data["currency"],
        seller=Party.model_validate(data["seller"]),
        buyer=Party.model_validate(data["buyer"]),
        payment=PaymentInstructions.model_validate(payment) if payment else None,
        lines=tuple(InvoiceLine.model_validate(line) for line in data["lines"]),
        taxes=tuple(TaxBreakdown.model_validate(group) for group in data["taxes"]),
        net_total=amount("net_total"),
        tax_total=amount("tax_total"),
        total=amount("total"),
        issued_on=date.fromisoformat(data["issued_on"]),
        issued_at=clock.parse(data["issued_at"]),
        due_on=day("due_on"),
        terms=data.get("terms"),
        discount_until=day("discount_until"),
        discount_amount=amount("discount_amount"),
        payment_reference=data.get("payment_reference", ""),
        credited_invoice_id=data.get("credited_invoice_id"),
        credited_invoice_number=data.get("credited_invoice_number"),
        credited_invoice_issued_on=day("credited_invoice_issued_on"),
        delivered_on=day("delivered_on"),
        delivered_to=PartyAddress.model_validate(data["delivered_to"])
        if data.get("delivered_to")
        else None,
        reason=data.get("reason"),
        amount_credited=amount("amount_credited"),
        amount_paid=amount("amount_paid"),
        amount_discounted=amount("amount_discounted")
        if "amount_discounted" in data
        else Decimal(0),
        amount_due=amount("amount_due"),
        status=InvoiceStatus(data["status"]),
        version=int(data["version"]),
        credited_quantities={
            int(line_no): Decimal(quantity)
            for line_no, quantity in data.get("credited_quantities", {}).items()
        },
        credited_taxes=tuple(
            TaxBreakdown.model_validate(group) for group in data.get("credited_taxes", ())
        ),
        amount_written_off=amount("amount_written_off")
        if "amount_written_off" in data
        else Decimal(0),
        write_offs=tuple(WriteOff.from_wire(item) for item in data.get("write_offs", ())),
        amount_reclaimed=amount("amount_reclaimed") if "amount_reclaimed" in data else Decimal(0),
    )


# --- helpers ------------------------------------------------------------------------------------


def billed_party(customer: Customer) -> Party:
    """The customer as billed today (its billing address; ``ValueError`` without one)."""
    return _buyer(customer, None)


def _buyer(customer: Customer, order: Order | None) -> Party:
    """The buyer as billed: the billing address, or (legacy accounts) the order's ship-to."""
    if customer.billing_address is not None:
        address = PartyAddress(**customer.billing_address.model_dump())
    elif order is not None and order.ship_to is not None:
        address = PartyAddress(**order.ship_to.model_dump(exclude={"name"}))
    else:
        raise ValueError(f"customer {customer.customer_id} has no billing address (nor a ship-to)")
    return Party(
        name=customer.legal_name,
        address=address,
        tax_id=customer.tax_id,
        email=str(customer.billing_email),
        party_id=customer.customer_id,
        endpoint=customer.peppol_id or peppol.from_vat_id(customer.tax_id),
    )


def with_seller_details(invoice: Invoice, seller: Seller) -> Invoice:
    """The document with the profile's seller contact and participant id where it has none
    (documents issued before sellers had them, delivered since: Peppol needs both)."""
    completed = _completed(invoice.seller, seller)
    return (
        invoice if completed == invoice.seller else invoice.model_copy(update={"seller": completed})
    )


def _completed(issuer: Party, seller: Seller | None) -> Party:
    """The issuer with the profile's contact and participant id where it has none."""
    if seller is None or issuer.tax_id != seller.party.tax_id:
        return issuer
    return issuer.model_copy(
        update={
            "contact": issuer.contact or seller.party.contact,
            "endpoint": issuer.endpoint or seller.party.endpoint,
        }
    )


def _totals(taxes: Sequence[TaxBreakdown]) -> tuple[Decimal, Decimal]:
    net = sum((group.taxable_amount for group in taxes), Decimal(0))
    return net, sum((group.tax_amount for group in taxes), Decimal(0))


def _utc_millis(moment: datetime) -> datetime:
    """UTC at millisecond precision: what the wire carries, so documents read back equal."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    moment = moment.astimezone(UTC)
    return moment.replace(microsecond=moment.microsecond // 1000 * 1000)


def _remaining(invoice: Invoice, line: InvoiceLine) -> Decimal:
    return line.quantity - invoice.credited_quantities.get(line.line_no, Decimal(0))


def _crediting(
    invoice: Invoice, remaining: Mapping[int, Decimal], quantities: Mapping[int, Decimal] | None
) -> dict[int, Decimal]:
    if quantities is None:
        return {line_no: left for line_no, left in remaining.items() if left > 0}
    if not quantities:
        raise CreditError("a credit note credits at least one line", field="lines")
    crediting = {}
    for line_no, requested in sorted(quantities.items()):
        quantity = Decimal(requested)
        if line_no not in remaining:
            raise CreditError(
                f"invoice {invoice.number} has no line {line_no}", line_no=line_no, field="line_no"
            )
        if quantity <= 0:
            raise CreditError(
                f"line {line_no}: a credited quantity is above 0", line_no=line_no, field="quantity"
            )
        if quantity > remaining[line_no]:
            raise CreditError(
                f"line {line_no}: {quantity} exceeds the {remaining[line_no]} not yet credited",
                line_no=line_no,
                field="quantity",
            )
        crediting[line_no] = quantity
    return crediting


def _cumulative_net(line: InvoiceLine, quantity: Decimal, currency: str) -> Decimal:
    """What crediting ``quantity`` of ``line`` in all comes to (the whole line: its amount)."""
    if quantity == line.quantity:
        return line.net_amount
    return quantize(quantity * line.unit_price, currency)


def _credited_group(
    invoice: Invoice,
    group: TaxBreakdown,
    done: set[int],
) -> TaxBreakdown:
    """The note's tax in ``group``: the group's cumulative tax after it, less what was credited.

    Once every invoice line of the group is fully credited the cumulative tax is the invoice's
    own group tax, so nothing is left over.
    """
    key = (group.tax_code, group.tax_rate)
    before = next(
        (
            done_group
            for done_group in invoice.credited_taxes
            if (done_group.tax_code, done_group.tax_rate) == key
        ),
        None,
    )
    taxable_before = before.taxable_amount if before else Decimal(0)
    tax_before = before.tax_amount if before else Decimal(0)
    members = [line for line in invoice.lines if (line.tax_code, line.tax_rate) == key]
    if all(line.line_no in done for line in members):
        invoiced = next(
            inv_group
            for inv_group in invoice.taxes
            if (inv_group.tax_code, inv_group.tax_rate) == key
        )
        return group.model_copy(
            update={
                "taxable_amount": invoiced.taxable_amount - taxable_before,
                "tax_amount": invoiced.tax_amount - tax_before,
            }
        )
    from shared.domain import tax

    cumulative = tax.group_tax(
        taxable_before + group.taxable_amount, group.tax_rate, invoice.currency
    )
    return group.model_copy(update={"tax_amount": cumulative - tax_before})


def settled(invoice: Invoice, **changes: Any) -> Invoice:
    """The invoice with ``changes``, its amount due and status recomputed, one version on."""
    changed = invoice.model_copy(update=changes)
    due = (
        changed.total
        + changed.amount_reclaimed
        - changed.amount_credited
        - changed.amount_paid
        - changed.amount_discounted
        - changed.amount_written_off
    )
    changed = changed.model_copy(update={"amount_due": max(Decimal(0), due)})
    return changed.model_copy(update={"status": status_of(changed), "version": invoice.version + 1})
