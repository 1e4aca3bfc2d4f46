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

The aging sorts what is still due on the open invoices (legacy ones included) by days past due
as of ``end``: current (not due yet), 1-30, 31-60, 61-90 and 90+ days.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, date
from decimal import Decimal
from typing import Any

from pydantic import BaseModel, ConfigDict

from shared.domain.invoice import Party, PaymentInstructions
from shared.domain.ledger import Account, JournalEntry
from shared.domain.money import Money

ZERO = Decimal(0)
CUSTOMER_ACCOUNTS = frozenset({Account.RECEIVABLES, Account.UNAPPLIED_CASH})
CURRENT = "current"
BUCKETS = (CURRENT, "1-30", "31-60", "61-90", "90+")
_BUCKET_LIMITS = ((0, CURRENT), (30, "1-30"), (60, "31-60"), (90, "61-90"))
# The invoice an allocation's entry names: its memo ends "... invoice <invoice id>".
_MEMO_INVOICE = re.compile(r"invoice (\S+)$")
# Entries about one invoice that change what the customer owes, as the statement calls them.
_ON_INVOICE = {
    "allocation": "Early payment discount",
    "unapplication": "Discount reversed",
    "fee": "Reminder fee",
    "interest": "Late payment interest",
}


class OpenInvoice(BaseModel):
    """An invoice with an amount still due, as the aging needs it."""

    model_config = ConfigDict(frozen=True)

    invoice_id: str
    number: str
    issued_on: date
    due_on: date
    amount_due: Decimal
    legacy: bool = False  # imported from the legacy system (an opening balance)


class AgedInvoice(BaseModel):
    model_config = ConfigDict(frozen=True)

    invoice: OpenInvoice
    days_overdue: int  # as of the statement's end; 0 or less: not overdue
    bucket: str


class StatementLine(BaseModel):
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


class Aging(BaseModel):
    model_config = ConfigDict(frozen=True)

    as_of: date
    buckets: dict[str, Decimal]  # every name in BUCKETS, in that order
    invoices: tuple[AgedInvoice, ...]  # oldest due date first

    @property
    def total(self) -> Decimal:
        return sum(self.buckets.values(), ZERO)


class Statement(BaseModel):
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
    numbers: Mapping[str, str] | None = None,
    customer_address: Sequence[str] = (),
    seller: Party | None = None,
    payment: PaymentInstructions | None = None,
) -> Statement:
    """The statement of ``start``..``end`` from the customer's entries and open invoices.

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
        aging=aging(open_invoices, end),
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


def aging(open_invoices: Iterable[OpenInvoice], as_of: date) -> Aging:
    """What is due on the invoices with an amount above 0, by days past due as of ``as_of``."""
    buckets = dict.fromkeys(BUCKETS, ZERO)
    aged = []
    for invoice in sorted(open_invoices, key=lambda i: (i.due_on, i.number)):
        if invoice.amount_due <= 0:
            continue
        days = (as_of - invoice.due_on).days
        bucket = bucket_for(days)
        buckets[bucket] += invoice.amount_due
        aged.append(AgedInvoice(invoice=invoice, days_overdue=days, bucket=bucket))
    return Aging(as_of=as_of, buckets=buckets, invoices=tuple(aged))


def describe(entry: JournalEntry, numbers: Mapping[str, str]) -> tuple[str, str]:
    """(reference, description) of an entry as the customer reads them."""
    kind, source = entry.kind, entry.source_id
    if kind in ("invoice", "credit_note"):
        return numbers.get(source, source), "Invoice" if kind == "invoice" else entry.memo
    if kind == "opening_balance":  # source id: the legacy invoice's id
        return numbers.get(source, source), "Invoice (migrated opening balance)"
    if kind in ("payment", "transfer", "refund"):
        received = "Payment received" if effect(entry) < 0 else entry.memo
        return _payment_id(source), "Refund" if kind == "refund" else received
    if kind in _ON_INVOICE:
        invoice_id = _invoice_of(entry)
        number = numbers.get(invoice_id, invoice_id)
        return number, f"{_ON_INVOICE[kind]}, invoice {number}"
    return source, entry.memo


def _invoice_of(entry: JournalEntry) -> str:
    """The invoice an allocation, fee or interest entry is about."""
    if entry.kind in ("fee", "interest"):  # source id "<invoice id>:<level or day>"
        return entry.source_id.split(":", 1)[0]
    found = _MEMO_INVOICE.search(entry.memo)
    return found[1] if found else entry.source_id


def _payment_id(source_id: str) -> str:
    """The payment a payment, transfer (``<id>:in``) or refund (``<id>:<total>``) entry is of."""
    return source_id.split(":", 1)[0]
