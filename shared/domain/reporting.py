"""The books receivables reports read, and what was open on a day (aging.py and kpis.py report).

Everything here is rebuilt from immutable facts, so a past day gives what the books said that
day: journal entries (each with its ``posted_at``), the issued documents (numbers, issue and due
dates, which invoice a credit note corrects), and the dated facts the events recorded (when an
order was confirmed and shipped complete, when a payment was received and auto-applied, when an
invoice's dispute opened and closed). Nothing reads an invoice's current amount due.

What is open on a day: every receivables posting of an entry posted on or before that day (UTC),
attributed to its invoice. An entry names its invoice (``JournalEntry.invoice_id``); entries
written before that field existed are attributed by what they did carry (``attributed_invoice``):
an invoice entry by its source id, a credit note by the credited invoice its document names, an
allocation or unapplication by its memo ("Applied to invoice <id>"), a fee or interest by its
source id (``<invoice id>:<level or day>``). A fee or interest charge is its own open item, due
the day it was charged, named by its entry id: cash or credit applied to it (or taken back) names
it (``JournalEntry.charge_id``) and moves that item, never the invoice it was charged on. A
legacy invoice (an opening balance imported from the old system, whose history is not known) is
open from its issue date at the amount its ``opening_balance`` entry booked (dated that day), and
cash applied to it since moves it like any invoice: so the periods around the cut-over see it as
the receivable it was, not as a jump of AR without sales. One imported before that entry existed
is not in the ledger: it counts at its imported open amount from its issue date, as it always did.

Ratios and days are rounded half-up to 2 decimals for the wire; they are computed unrounded.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from decimal import ROUND_HALF_UP, Decimal

from pydantic import ConfigDict

from shared.domain.ledger import Account, JournalEntry
from shared.model import Model

ZERO = Decimal(0)
CENT = Decimal("0.01")
CHARGE_KINDS = frozenset({"fee", "interest"})
OPENING_BALANCE = "opening_balance"  # a legacy invoice's open amount, booked at its import
_MEMO_PREFIXES = {"allocation": "Applied to invoice ", "unapplication": "Unapplied from invoice "}


# --- facts ----------------------------------------------------------------------------------------


class InvoiceFact(Model):
    """An issued document as the report needs it (its figures never change once issued)."""

    model_config = ConfigDict(frozen=True)

    invoice_id: str
    customer_id: str
    number: str
    currency: str
    kind: str = "invoice"  # invoice | credit_note
    issued_on: date
    due_on: date | None = None
    total: Decimal
    credited_invoice_id: str | None = None  # credit notes: the invoice they correct
    legacy: bool = False  # an opening balance imported from the legacy system
    open_amount: Decimal = ZERO  # legacy invoices: what was still open when imported


class OrderFact(Model):
    model_config = ConfigDict(frozen=True)

    order_id: str
    customer_id: str
    currency: str
    confirmed_at: datetime | None = None  # its first OrderConfirmed
    shipped_complete_at: datetime | None = None  # the OrderShipped that shipped its last unit


class PaymentFact(Model):
    model_config = ConfigDict(frozen=True)

    payment_id: str
    currency: str
    received_at: datetime
    auto_applied_at: datetime | None = None  # when the matcher applied it on its own


class DisputeFact(Model):
    """An invoice held in dispute from ``opened_at`` until ``closed_at`` (None: still open)."""

    model_config = ConfigDict(frozen=True)

    invoice_id: str
    currency: str
    opened_at: datetime
    closed_at: datetime | None = None


@dataclass(frozen=True)
class Books:
    """What the reports read: entries of every ledger, documents, and the dated event facts."""

    entries: Sequence[JournalEntry]
    invoices: Sequence[InvoiceFact]
    customer_names: Mapping[str, str] = field(default_factory=dict)
    orders: Sequence[OrderFact] = ()
    payments: Sequence[PaymentFact] = ()
    disputes: Sequence[DisputeFact] = ()


@dataclass(frozen=True)
class OpenItem:
    """What one invoice (or one fee or interest charge) had open on a day."""

    customer_id: str
    currency: str
    item_id: str
    due_on: date
    amount: Decimal


# --- attribution ----------------------------------------------------------------------------------


def attributed_invoice(entry: JournalEntry, credited: Mapping[str, str]) -> str | None:
    """The invoice an entry moves receivables for (see the module notes for older entries).

    ``credited`` maps credit note ids to the invoice they correct.
    """
    if entry.invoice_id:
        return entry.invoice_id
    if entry.kind == "invoice":
        return entry.source_id
    if entry.kind == "credit_note":
        return credited.get(entry.source_id)
    prefix = _MEMO_PREFIXES.get(entry.kind)
    if prefix and entry.memo.startswith(prefix):
        return entry.memo.removeprefix(prefix).strip() or None
    if entry.kind in CHARGE_KINDS and ":" in entry.source_id:
        return entry.source_id.rsplit(":", 1)[0]
    return None


def posted_on(entry: JournalEntry) -> date:
    return entry.posted_at.astimezone(UTC).date()


def end_of(day: date) -> datetime:
    """The last moment of ``day`` (UTC): facts at or before it happened on or before the day."""
    return datetime.combine(day, time.max, UTC)


def receivable(entry: JournalEntry) -> Decimal:
    return sum(
        (posting.amount for posting in entry.postings if posting.account is Account.RECEIVABLES),
        ZERO,
    )


def _unapplied(entry: JournalEntry) -> Decimal:
    """What the entry adds to the money held for the customer (a credit balance, so negated)."""
    return -sum(
        (p.amount for p in entry.postings if p.account is Account.UNAPPLIED_CASH),
        ZERO,
    )


class IndexedBooks:
    """The books indexed once, so several days and periods read them cheaply."""

    def __init__(self, books: Books) -> None:
        self.books = books
        self.documents = {fact.invoice_id: fact for fact in books.invoices}
        credited = {
            fact.invoice_id: fact.credited_invoice_id
            for fact in books.invoices
            if fact.kind == "credit_note" and fact.credited_invoice_id
        }
        self.entries = sorted(books.entries, key=lambda entry: (entry.posted_at, entry.entry_id))
        self.invoice_of = {
            entry.entry_id: attributed_invoice(entry, credited) for entry in self.entries
        }
        # Legacy invoices the ledger holds (their open amount is its opening-balance entry)
        self.booked = {entry.invoice_id for entry in self.entries if entry.kind == OPENING_BALANCE}
        self.charged_on = {
            entry.entry_id: posted_on(entry) for entry in self.entries if entry.kind in CHARGE_KINDS
        }

    def item_of(self, entry: JournalEntry) -> tuple[str, date | None]:
        """The open item an entry belongs to, and that item's due day when known."""
        if entry.kind in CHARGE_KINDS:
            return entry.entry_id, posted_on(entry)
        if entry.charge_id:
            return entry.charge_id, self.charged_on.get(entry.charge_id)
        invoice_id = self.invoice_of[entry.entry_id]
        if invoice_id is None:
            return entry.entry_id, posted_on(entry)
        document = self.documents.get(invoice_id)
        return invoice_id, document.due_on if document else None

    def open_items(self, day: date) -> list[OpenItem]:
        amounts: dict[tuple[str, str, str], Decimal] = defaultdict(lambda: ZERO)
        due: dict[str, date] = {}
        for entry in self.entries:
            if posted_on(entry) > day:
                break
            moved = receivable(entry)
            if not moved:
                continue
            item_id, due_on = self.item_of(entry)
            amounts[(entry.customer_id, entry.currency, item_id)] += moved
            due.setdefault(item_id, due_on or posted_on(entry))
        for fact in self.books.invoices:
            if fact.legacy and fact.invoice_id not in self.booked and fact.issued_on <= day:
                amounts[(fact.customer_id, fact.currency, fact.invoice_id)] += fact.open_amount
                due[fact.invoice_id] = fact.due_on or fact.issued_on
        return [
            OpenItem(customer, currency, item_id, due[item_id], amount)
            for (customer, currency, item_id), amount in sorted(amounts.items())
            if amount
        ]

    def unapplied(self, day: date) -> dict[tuple[str, str], Decimal]:
        """(customer, currency) -> money held for the customer on ``day``."""
        held: dict[tuple[str, str], Decimal] = defaultdict(lambda: ZERO)
        for entry in self.entries:
            if posted_on(entry) > day:
                break
            if moved := _unapplied(entry):
                held[(entry.customer_id, entry.currency)] += moved
        return {key: amount for key, amount in held.items() if amount}

    def receivables(self, day: date) -> dict[str, tuple[Decimal, Decimal]]:
        """Currency -> (AR, AR not yet past due) on ``day``."""
        totals: dict[str, tuple[Decimal, Decimal]] = {}
        for item in self.open_items(day):
            ar, current = totals.get(item.currency, (ZERO, ZERO))
            not_due = item.amount if item.due_on >= day else ZERO
            totals[item.currency] = (ar + item.amount, current + not_due)
        return totals

    def credit_sales(self, start: date, end: date) -> dict[str, Decimal]:
        """Currency -> invoices issued less credit notes issued, ``start``..``end``."""
        sales: dict[str, Decimal] = defaultdict(lambda: ZERO)
        for entry in self.entries:
            if start <= posted_on(entry) <= end:
                if entry.kind == "invoice":
                    sales[entry.currency] += entry.total
                elif entry.kind == "credit_note":
                    sales[entry.currency] -= entry.total
        return dict(sales)


def rounded(value: Decimal | None) -> Decimal | None:
    return None if value is None else value.quantize(CENT, rounding=ROUND_HALF_UP)


def wire(value: Decimal | None) -> str | None:
    shown = rounded(value)
    return None if shown is None else str(shown)
