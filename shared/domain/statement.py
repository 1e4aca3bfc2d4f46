"""The customer statement of account: what the customer owed, what happened, what is open.

A statement covers a period (``start`` to ``end``, both inclusive, by the UTC day an entry was
posted) and is built from the customer's ledger alone, so it always agrees with it:

- an entry's effect on what the customer owes is the sum of its postings on receivables and
  unapplied cash, debit-positive (an invoice or a fee adds, a payment or a credit note takes
  off). Entries that only move money between the two (cash applied to an invoice without a
  discount) change nothing the customer owes and are no lines; a discount granted on an
  allocation is a credit line, a fee or interest a debit line;
- the opening balance is the effect of every entry before ``start``; the closing balance the
  opening balance plus the lines, which is ``ledger.customer_balance`` of every entry up to
  ``end``.

The aging is what the customer had open at the end of ``end`` by the same ledger, item by item as
the aging report counts them (shared.domain.reporting.IndexedBooks.open_items): invoices, legacy
invoices, and each fee or interest charge, by days past due as of ``end``: current (not due yet),
1-30, 31-60, 61-90 and 90+ days; ``unapplied`` is the money held for the customer. So the closing
balance is always the aging's total less what is held (see shared.domain.reconciliation).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, date
from decimal import Decimal
from typing import Any

from pydantic import ConfigDict

from shared.domain.invoice import Party, PaymentInstructions
from shared.domain.ledger import Account, JournalEntry
from shared.domain.money import Money
from shared.domain.reporting import IndexedBooks, OpenItem
from shared.model import Model

ZERO = Decimal(0)
CUSTOMER_ACCOUNTS = frozenset({Account.RECEIVABLES, Account.UNAPPLIED_CASH})
CURRENT = "current"
BUCKETS = (CURRENT, "1-30", "31-60", "61-90", "90+")
_BUCKET_LIMITS = ((0, CURRENT), (30, "1-30"), (60, "31-60"), (90, "61-90"))
# The invoice an allocation's entry names: its memo ends "... invoice <invoice id>".
_MEMO_INVOICE = re.compile(r"invoice (\S+)$")
# Money going back on a payment (source id ``<payment id>:...``), as the statement calls it.
_MONEY_BACK = {
    "refund": "Refund",
    "chargeback": "Chargeback",
    "chargeback_reversal": "Chargeback reversed",
}
# Entries about one invoice that change what the customer owes, as the statement calls them.
_ON_INVOICE = {
    "allocation": "Early payment discount",
    "unapplication": "Discount reversed",
    "fee": "Reminder fee",
    "interest": "Late payment interest",
    "write_off": "Written off",
    "write_off_reversal": "Write-off reversed",
}


class OpenInvoice(Model):
    """An open item with an amount still due, as the aging needs it: an invoice (``legacy`` when
    imported from the old system), or a fee or interest charge (``kind``) on one."""

    model_config = ConfigDict(frozen=True)

    invoice_id: str  # the invoice's id; a charge's ledger entry id
    number: str  # the invoice's number; a charge's: the number of the invoice it was charged on
    issued_on: date
    due_on: date
    amount_due: Decimal
    legacy: bool = False  # imported from the legacy system (an opening balance)
    kind: str = "invoice"  # invoice, fee or interest


class AgedInvoice(Model):
    model_config = ConfigDict(frozen=True)

    invoice: OpenInvoice
    days_overdue: int  # as of the statement's end; 0 or less: not overdue
    bucket: str


class StatementLine(Model):
    """One ledger entry that changed what the customer owes."""

    model_config = ConfigDict(frozen=True)

    posted_on: date
    entry_id: str
    kind: str
    reference: str  # the invoice or credit note number, the payment id
    description: str
    debit: Decimal  # adds to what the customer owes
    credit: Decimal  # takes off it
    balance: Decimal  # what the customer owes after this line


class Aging(Model):
    model_config = ConfigDict(frozen=True)

    as_of: date
    buckets: dict[str, Decimal]  # every name in BUCKETS, in that order
    invoices: tuple[AgedInvoice, ...]  # oldest due date first
    unapplied: Decimal = ZERO  # money held for the customer: received, not applied, or credit

    @property
    def total(self) -> Decimal:
        return sum(self.buckets.values(), ZERO)

    @property
    def balance(self) -> Decimal:
        """What the customer owes net: the open items less the money held for it."""
        return self.total - self.unapplied


class Statement(Model):
    model_config = ConfigDict(frozen=True)

    customer_id: str
    customer_name: str
    currency: str
    start: date
    end: date
    opening_balance: Decimal
    lines: tuple[StatementLine, ...]
    closing_balance: Decimal
    aging: Aging
    # For the printed statement only: who sends it, to whom, and how to pay.
    customer_address: tuple[str, ...] = ()
    seller: Party | None = None
    payment: PaymentInstructions | None = None

    @property
    def total_debits(self) -> Decimal:
        return sum((line.debit for line in self.lines), ZERO)

    @property
    def total_credits(self) -> Decimal:
        return sum((line.credit for line in self.lines), ZERO)

    def money(self, amount: Decimal) -> dict[str, str]:
        return Money(amount=amount, currency=self.currency).to_wire()

    def to_wire(self) -> dict[str, Any]:
        """The API's view: amounts as decimal strings with the currency, dates ISO."""
        return {
            "customer_id": self.customer_id,
            "customer_name": self.customer_name,
            "currency": self.currency,
            "from": self.start.isoformat(),
            "to": self.end.isoformat(),
            "opening_balance": self.money(self.opening_balance),
            "lines": [
                {
                    "posted_on": line.posted_on.isoformat(),
                    "kind": line.kind,
                    "reference": line.reference,
                    "description": line.description,
                    "debit": self.money(line.debit),
                    "credit": self.money(line.credit),
                    "balance": self.money(line.balance),
                }
                for line in self.lines
            ],
            "closing_balance": self.money(self.closing_balance),
            "aging": {
                "as_of": self.aging.as_of.isoformat(),
                "buckets": {
                    name: self.money(amount) for name, amount in self.aging.buckets.items()
                },
                "total": self.money(self.aging.total),
                "unapplied": self.money(self.aging.unapplied),
                "balance": self.money(self.aging.balance),
                "open_invoices": [
                    {
                        "invoice_id": aged.invoice.invoice_id,
                        "number": aged.invoice.number,
                        "issued_on": aged.invoice.issued_on.isoformat(),
                        "due_on": aged.invoice.due_on.isoformat(),
                        "amount_due": self.money(aged.invoice.amount_due),
                        "days_overdue": max(aged.days_overdue, 0),
                        "bucket": aged.bucket,
                        "legacy": aged.invoice.legacy,
                        "kind": aged.invoice.kind,
                    }
                    for aged in self.aging.invoices
                ],
            },
        }


# --- building -----------------------------------------------------------------------------------


def build(
    *,
    customer_id: str,
    customer_name: str,
    currency: str,
    start: date,
    end: date,
    entries: Iterable[JournalEntry],
    open_invoices: Iterable[OpenInvoice],
    unapplied: Decimal = ZERO,
    numbers: Mapping[str, str] | None = None,
    customer_address: Sequence[str] = (),
    seller: Party | None = None,
    payment: PaymentInstructions | None = None,
) -> Statement:
    """The statement of ``start``..``end`` from the customer's entries and its open items at the
    end of ``end`` (``open_items``) with the money then held for it (``unapplied``).

    ``numbers`` maps document ids to their numbers (invoices, credit notes, legacy invoices),
    for the references; an id it lacks is shown as it is. Entries in another currency than
    ``currency``, or posted after ``end``, are left out.
    """
    if start > end:
        raise ValueError(f"the statement starts {start} after it ends {end}")
    numbers = numbers or {}
    ordered = sorted(
        (e for e in entries if e.currency == currency and posted_on(e) <= end),
        key=lambda e: (e.posted_at, e.entry_id),
    )
    opening = sum((effect(e) for e in ordered if posted_on(e) < start), ZERO)
    lines: list[StatementLine] = []
    balance = opening
    for entry in ordered:
        change = effect(entry)
        if posted_on(entry) < start or change == 0:
            continue
        balance += change
        reference, description = describe(entry, numbers)
        lines.append(
            StatementLine(
                posted_on=posted_on(entry),
                entry_id=entry.entry_id,
                kind=entry.kind,
                reference=reference,
                description=description,
                debit=max(change, ZERO),
                credit=max(-change, ZERO),
                balance=balance,
            )
        )
    return Statement(
        customer_id=customer_id,
        customer_name=customer_name,
        currency=currency,
        start=start,
        end=end,
        opening_balance=opening,
        lines=tuple(lines),
        closing_balance=balance,
        aging=aging(open_invoices, end, unapplied),
        customer_address=tuple(customer_address),
        seller=seller,
        payment=payment,
    )


def effect(entry: JournalEntry) -> Decimal:
    """What the entry adds to what the customer owes (negative: what it takes off)."""
    return sum(
        (posting.amount for posting in entry.postings if posting.account in CUSTOMER_ACCOUNTS),
        ZERO,
    )


def posted_on(entry: JournalEntry) -> date:
    """The UTC day of the entry (``posted_at`` is UTC)."""
    return entry.posted_at.astimezone(UTC).date()


def bucket_for(days_overdue: int) -> str:
    for limit, name in _BUCKET_LIMITS:
        if days_overdue <= limit:
            return name
    return BUCKETS[-1]


def aging(open_invoices: Iterable[OpenInvoice], as_of: date, unapplied: Decimal = ZERO) -> Aging:
    """What is due on the open items with an amount above 0, by days past due as of ``as_of``."""
    buckets = dict.fromkeys(BUCKETS, ZERO)
    aged = []
    for invoice in sorted(open_invoices, key=lambda i: (i.due_on, i.number, i.invoice_id)):
        if invoice.amount_due == 0:
            continue
        days = (as_of - invoice.due_on).days
        bucket = bucket_for(days)
        buckets[bucket] += invoice.amount_due
        aged.append(AgedInvoice(invoice=invoice, days_overdue=days, bucket=bucket))
    return Aging(as_of=as_of, buckets=buckets, invoices=tuple(aged), unapplied=unapplied)


def open_items(
    books: IndexedBooks, customer_id: str, currency: str, day: date
) -> list[OpenInvoice]:
    """The customer's open items at the end of ``day``, exactly as the aging report counts them."""
    return [
        open_invoice(books, item)
        for item in books.open_items(day)
        if item.customer_id == customer_id and item.currency == currency
    ]


def open_invoice(books: IndexedBooks, item: OpenItem) -> OpenInvoice:
    """An open item with its document's number, issue day and kind."""
    document = books.documents.get(item.item_id)
    if document is not None:
        number, issued_on, kind = document.number, document.issued_on, "invoice"
    else:  # a charge (its entry id, "<kind>:<source>") or an entry of no known invoice
        kind = item.item_id.split(":", 1)[0]
        charged_on = books.documents.get(books.invoice_of.get(item.item_id) or "")
        number = charged_on.number if charged_on else item.item_id
        issued_on = item.due_on
    return OpenInvoice(
        invoice_id=item.item_id,
        number=number,
        issued_on=issued_on,
        due_on=item.due_on,
        amount_due=item.amount,
        legacy=bool(document and document.legacy),
        kind=kind,
    )


def describe(entry: JournalEntry, numbers: Mapping[str, str]) -> tuple[str, str]:
    """(reference, description) of an entry as the customer reads them."""
    kind, source = entry.kind, entry.source_id
    if kind in ("invoice", "credit_note"):
        return numbers.get(source, source), "Invoice" if kind == "invoice" else entry.memo
    if kind == "opening_balance":  # source id: the legacy invoice's id
        return numbers.get(source, source), "Invoice (migrated opening balance)"
    if kind in ("payment", "transfer", *_MONEY_BACK):
        received = "Payment received" if effect(entry) < 0 else entry.memo
        return _payment_id(source), _MONEY_BACK.get(kind, received)
    if kind in _ON_INVOICE:
        invoice_id = _invoice_of(entry)
        number = numbers.get(invoice_id, invoice_id)
        return number, f"{_ON_INVOICE[kind]}, invoice {number}"
    return source, entry.memo


def _invoice_of(entry: JournalEntry) -> str:
    """The invoice an allocation, fee, interest or write-off entry is about."""
    if entry.invoice_id:
        return entry.invoice_id
    if entry.kind in ("fee", "interest"):  # source id "<invoice id>:<level or day>"
        return entry.source_id.split(":", 1)[0]
    found = _MEMO_INVOICE.search(entry.memo)
    return found[1] if found else entry.source_id


def _payment_id(source_id: str) -> str:
    """The payment a payment, transfer (``<id>:in``) or refund (``<id>:<total>``) entry is of."""
    return source_id.split(":", 1)[0]
