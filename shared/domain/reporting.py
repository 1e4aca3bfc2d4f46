"""Receivables reporting: AR aging as of any day, and the KPIs of a period, from the books.

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
the day it was charged (cash application never settles it against the invoice). A legacy invoice
(an opening balance imported from the old system, whose history is not known) is open at its
imported open amount from its issue date: so the periods around the cut-over see it as the
receivable it was, not as a jump of AR without sales.

Ratios and days are rounded half-up to 2 decimals for the wire; they are computed unrounded.
"""

from __future__ import annotations

import csv
import io
import itertools
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from pydantic import BaseModel, ConfigDict, field_validator

from shared.domain.ledger import Account, JournalEntry
from shared.domain.money import quantize

ZERO = Decimal(0)
HUNDRED = Decimal(100)
CENT = Decimal("0.01")
DEFAULT_EDGES = (30, 60, 90)
SERVICE_WINDOW_DAYS = 3
COUNTBACK_MONTHS = 24  # how far countback DSO looks back at most
MAX_EDGES = 8
CHARGE_KINDS = frozenset({"fee", "interest"})
AMOUNTS = frozenset({"opening_ar", "closing_ar", "closing_current_ar", "credit_sales"})
_MEMO_PREFIXES = {"allocation": "Applied to invoice ", "unapplication": "Unapplied from invoice "}


# --- facts ----------------------------------------------------------------------------------------


class InvoiceFact(BaseModel):
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


class OrderFact(BaseModel):
    model_config = ConfigDict(frozen=True)

    order_id: str
    customer_id: str
    currency: str
    confirmed_at: datetime | None = None  # its first OrderConfirmed
    shipped_complete_at: datetime | None = None  # the OrderShipped that shipped its last unit


class PaymentFact(BaseModel):
    model_config = ConfigDict(frozen=True)

    payment_id: str
    currency: str
    received_at: datetime
    auto_applied_at: datetime | None = None  # when the matcher applied it on its own


class DisputeFact(BaseModel):
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


def _posted_on(entry: JournalEntry) -> date:
    return entry.posted_at.astimezone(UTC).date()


def _end_of(day: date) -> datetime:
    """The last moment of ``day`` (UTC): facts at or before it happened on or before the day."""
    return datetime.combine(day, time.max, UTC)


def _receivable(entry: JournalEntry) -> Decimal:
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


class _Ledger:
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

    def item_of(self, entry: JournalEntry) -> tuple[str, date | None]:
        """The open item an entry belongs to, and that item's due day when known."""
        if entry.kind in CHARGE_KINDS:
            return entry.entry_id, _posted_on(entry)
        invoice_id = self.invoice_of[entry.entry_id]
        if invoice_id is None:
            return entry.entry_id, _posted_on(entry)
        document = self.documents.get(invoice_id)
        return invoice_id, document.due_on if document else None

    def open_items(self, day: date) -> list[OpenItem]:
        amounts: dict[tuple[str, str, str], Decimal] = defaultdict(lambda: ZERO)
        due: dict[str, date] = {}
        for entry in self.entries:
            if _posted_on(entry) > day:
                break
            moved = _receivable(entry)
            if not moved:
                continue
            item_id, due_on = self.item_of(entry)
            amounts[(entry.customer_id, entry.currency, item_id)] += moved
            due.setdefault(item_id, due_on or _posted_on(entry))
        for fact in self.books.invoices:
            if fact.legacy and fact.issued_on <= day:
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
            if _posted_on(entry) > day:
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
            if start <= _posted_on(entry) <= end:
                if entry.kind == "invoice":
                    sales[entry.currency] += entry.total
                elif entry.kind == "credit_note":
                    sales[entry.currency] -= entry.total
        return dict(sales)


# --- aging ----------------------------------------------------------------------------------------


def bucket_labels(edges: Sequence[int]) -> tuple[str, ...]:
    """``(30, 60, 90)`` -> current, 1-30, 31-60, 61-90, 90+ (days past due)."""
    labels = ["current"]
    low = 1
    for edge in edges:
        labels.append(f"{low}-{edge}")
        low = edge + 1
    labels.append(f"{edges[-1]}+")
    return tuple(labels)


def check_edges(edges: Sequence[int]) -> tuple[int, ...]:
    """Edges ascending above 0 (ValueError otherwise)."""
    chosen = tuple(int(edge) for edge in edges)
    if not chosen or len(chosen) > MAX_EDGES:
        raise ValueError(f"between 1 and {MAX_EDGES} bucket edges")
    if chosen[0] < 1 or any(b <= a for a, b in itertools.pairwise(chosen)):
        raise ValueError("bucket edges are whole days above 0, ascending")
    return chosen


def bucket_of(days_past_due: int, edges: Sequence[int]) -> int:
    """0 for current (not past due), then 1.. per edge, the last for beyond the last edge."""
    if days_past_due <= 0:
        return 0
    for index, edge in enumerate(edges, start=1):
        if days_past_due <= edge:
            return index
    return len(edges) + 1


class AgingRow(BaseModel):
    """One customer's (or the total's) open receivables by bucket, in one currency."""

    model_config = ConfigDict(frozen=True)

    customer_id: str | None  # None on the total
    customer_name: str | None
    buckets: tuple[Decimal, ...]
    total: Decimal  # the sum of the buckets: open receivables
    unapplied: Decimal  # money held for the customer (received, not applied; credit owed)
    balance: Decimal  # total less unapplied: what the customer owes net
    open_items: int

    def to_wire(self, labels: Sequence[str], currency: str) -> dict[str, Any]:
        def money(amount: Decimal) -> str:
            return str(quantize(amount, currency))

        named = {"customer_id": self.customer_id, "customer_name": self.customer_name}
        return {
            **(named if self.customer_id is not None else {}),
            "buckets": {
                label: money(amount) for label, amount in zip(labels, self.buckets, strict=True)
            },
            "total": money(self.total),
            "unapplied": money(self.unapplied),
            "balance": money(self.balance),
            "open_items": self.open_items,
        }


class AgingCurrency(BaseModel):
    model_config = ConfigDict(frozen=True)

    currency: str
    customers: tuple[AgingRow, ...]  # by total, largest first
    totals: AgingRow


class AgingReport(BaseModel):
    """AR aging as of the end of ``as_of`` (UTC), per currency, per customer and in total."""

    model_config = ConfigDict(frozen=True)

    as_of: date
    edges: tuple[int, ...]
    currencies: tuple[AgingCurrency, ...]

    @property
    def labels(self) -> tuple[str, ...]:
        return bucket_labels(self.edges)

    def to_wire(self) -> dict[str, Any]:
        labels = self.labels
        return {
            "as_of": self.as_of.isoformat(),
            "edges": list(self.edges),
            "buckets": list(labels),
            "currencies": [
                {
                    "currency": group.currency,
                    "customers": [row.to_wire(labels, group.currency) for row in group.customers],
                    "totals": group.totals.to_wire(labels, group.currency),
                }
                for group in self.currencies
            ],
        }

    def to_csv(self) -> str:
        """One row per customer and currency, then a TOTAL row per currency."""
        labels = self.labels
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(
            [
                *("as_of", "currency", "customer_id", "customer_name"),
                *labels,
                *("total", "unapplied", "balance", "open_items"),
            ]
        )
        for group in self.currencies:
            for row in (*group.customers, group.totals):
                writer.writerow(
                    [
                        self.as_of.isoformat(),
                        group.currency,
                        row.customer_id or "TOTAL",
                        row.customer_name or "",
                        *(str(quantize(amount, group.currency)) for amount in row.buckets),
                        str(quantize(row.total, group.currency)),
                        str(quantize(row.unapplied, group.currency)),
                        str(quantize(row.balance, group.currency)),
                        row.open_items,
                    ]
                )
        return out.getvalue()


def aging(books: Books, as_of: date, edges: Sequence[int] = DEFAULT_EDGES) -> AgingReport:
    """What was open at the end of ``as_of``, by days past due, per customer and currency."""
    edges = check_edges(edges)
    ledger = _Ledger(books)
    width = len(edges) + 2
    buckets: dict[tuple[str, str], list[Decimal]] = defaultdict(lambda: [ZERO] * width)
    counts: dict[tuple[str, str], int] = defaultdict(int)
    for item in ledger.open_items(as_of):
        key = (item.currency, item.customer_id)
        buckets[key][bucket_of((as_of - item.due_on).days, edges)] += item.amount
        counts[key] += 1
    held = {
        (currency, customer): amount
        for (customer, currency), amount in ledger.unapplied(as_of).items()
    }
    groups = []
    for currency in sorted({currency for currency, _ in {*buckets, *held}}):
        keys = sorted(key for key in {*buckets, *held} if key[0] == currency)
        rows = [
            _row(
                customer,
                books.customer_names.get(customer, customer),
                buckets[(currency, customer)]
                if (currency, customer) in buckets
                else [ZERO] * width,
                held.get((currency, customer), ZERO),
                counts.get((currency, customer), 0),
            )
            for _, customer in keys
        ]
        rows.sort(key=lambda row: (-row.total, row.customer_id or ""))
        sums = [sum((row.buckets[i] for row in rows), ZERO) for i in range(width)]
        totals = _row(
            None,
            None,
            sums,
            sum((row.unapplied for row in rows), ZERO),
            sum(row.open_items for row in rows),
        )
        groups.append(AgingCurrency(currency=currency, customers=tuple(rows), totals=totals))
    return AgingReport(as_of=as_of, edges=edges, currencies=tuple(groups))


def _row(
    customer_id: str | None,
    name: str | None,
    buckets: Sequence[Decimal],
    unapplied: Decimal,
    count: int,
) -> AgingRow:
    total = sum(buckets, ZERO)
    return AgingRow(
        customer_id=customer_id,
        customer_name=name,
        buckets=tuple(buckets),
        total=total,
        unapplied=unapplied,
        balance=total - unapplied,
        open_items=count,
    )


# --- KPIs -----------------------------------------------------------------------------------------


class CurrencyKpis(BaseModel):
    """The KPIs of one currency over the period (see ``kpis`` for each formula)."""

    model_config = ConfigDict(frozen=True)

    currency: str
    opening_ar: Decimal
    closing_ar: Decimal
    closing_current_ar: Decimal
    credit_sales: Decimal
    dso: Decimal | None
    countback_dso: Decimal | None
    best_possible_dso: Decimal | None
    average_days_delinquent: Decimal | None
    cei: Decimal | None
    average_days_to_pay: Decimal | None
    invoices_paid: int
    orders_confirmed: int
    orders_fulfilled: int
    orders_pending: int  # confirmed, not shipped complete, window still running at the end
    fulfilment_rate: Decimal | None
    invoices_issued: int
    invoices_credited: int
    invoice_accuracy: Decimal | None
    payments_received: int
    payments_auto_applied: int
    auto_match_rate: Decimal | None
    open_disputes: int

    @field_validator(
        "dso",
        "countback_dso",
        "best_possible_dso",
        "average_days_delinquent",
        "cei",
        "average_days_to_pay",
        "fulfilment_rate",
        "invoice_accuracy",
        "auto_match_rate",
    )
    @classmethod
    def _rounded(cls, value: Decimal | None) -> Decimal | None:
        return rounded(value)

    def to_wire(self) -> dict[str, Any]:
        """Amounts in the currency's minor unit, days and percentages to 2 decimals (strings);
        counts as numbers; an undefined ratio as null."""
        wire: dict[str, Any] = {}
        for name, value in self.model_dump().items():
            if name in AMOUNTS:
                value = str(quantize(value, self.currency))  # noqa: PLW2901
            elif isinstance(value, Decimal):
                value = str(value)  # noqa: PLW2901
            wire[name] = value
        return wire


class KpiReport(BaseModel):
    model_config = ConfigDict(frozen=True)

    start: date
    end: date
    service_window_days: int
    currencies: tuple[CurrencyKpis, ...]

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    def to_wire(self) -> dict[str, Any]:
        return {
            "from": self.start.isoformat(),
            "to": self.end.isoformat(),
            "days": self.days,
            "service_window_days": self.service_window_days,
            "currencies": [group.to_wire() for group in self.currencies],
        }

    def to_csv(self) -> str:
        """One row per currency and KPI: from, to, currency, kpi, value (empty when undefined)."""
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(["from", "to", "currency", "kpi", "value"])
        for group in self.currencies:
            for name, value in group.to_wire().items():
                if name == "currency":
                    continue
                writer.writerow(
                    [
                        self.start.isoformat(),
                        self.end.isoformat(),
                        group.currency,
                        name,
                        "" if value is None else value,
                    ]
                )
        return out.getvalue()


def rounded(value: Decimal | None) -> Decimal | None:
    return None if value is None else value.quantize(CENT, rounding=ROUND_HALF_UP)


def _ratio(part: Decimal, whole: Decimal) -> Decimal | None:
    return part / whole if whole > 0 else None


def kpis(
    books: Books,
    start: date,
    end: date,
    *,
    service_window_days: int = SERVICE_WINDOW_DAYS,
) -> KpiReport:
    """The period's KPIs per currency. ``days`` = end - start + 1 (both days included).

    - AR(d): open receivables at the end of day d (open items, legacy included);
      current AR(d): the part not yet past due (due on or after d).
    - credit sales: invoices issued in the period less credit notes issued in it (totals).
    - DSO = AR(end) / credit sales x days.
    - countback DSO: AR(end) is matched against the sales of the calendar months going back
      from ``end`` (the month of ``end`` up to ``end``, then whole months): a month whose sales
      AR still exceeds adds all its days, the month that covers the rest adds its share
      (rest / month's sales x the month's days); None when 24 months of sales do not cover AR.
    - best possible DSO = current AR(end) / credit sales x days.
    - average days delinquent = DSO - best possible DSO.
    - CEI = (AR(start - 1) + sales - AR(end)) / (AR(start - 1) + sales - current AR(end)) x 100.
    - average days to pay: over invoices fully paid in the period (their open amount reached 0
      by an allocation posted in the period and stayed 0 to the end), the days from issue to
      that allocation, weighted by what allocations settled on the invoice.
    - fulfilment rate = orders shipped complete within ``service_window_days`` of their first
      confirmation / orders first confirmed in the period x 100; an order not shipped complete
      by the end whose window is still running then is pending and left out of both.
    - invoice accuracy = invoices issued in the period with no credit note issued by the end /
      invoices issued in the period x 100.
    - auto-match rate = payments received in the period that the matcher applied on its own by
      the end / payments received in the period x 100.
    - open disputes: invoices in dispute at the end of ``end``.

    A ratio whose denominator is 0 (or below) is None.
    """
    if start > end:
        raise ValueError(f"'from' ({start}) is after 'to' ({end})")
    ledger = _Ledger(books)
    days = Decimal((end - start).days + 1)
    opening = ledger.receivables(start - timedelta(days=1))
    closing = ledger.receivables(end)
    sales = ledger.credit_sales(start, end)
    paid = _days_to_pay(ledger, start, end)
    orders = _fulfilment(books.orders, start, end, service_window_days)
    accuracy = _accuracy(books.invoices, start, end)
    matching = _auto_match(books.payments, start, end)
    disputes = _open_disputes(books.disputes, end)
    currencies = sorted(
        {*opening, *closing, *sales, *paid, *orders, *accuracy, *matching, *disputes}
    )
    groups = []
    for currency in currencies:
        opening_ar, _ = opening.get(currency, (ZERO, ZERO))
        closing_ar, closing_current = closing.get(currency, (ZERO, ZERO))
        sold = sales.get(currency, ZERO)
        dso = _times(_ratio(closing_ar, sold), days)
        best = _times(_ratio(closing_current, sold), days)
        weighted_days, invoices_paid = paid.get(currency, (None, 0))
        confirmed, fulfilled, pending = orders.get(currency, (0, 0, 0))
        issued, credited = accuracy.get(currency, (0, 0))
        received, auto = matching.get(currency, (0, 0))
        groups.append(
            CurrencyKpis(
                currency=currency,
                opening_ar=opening_ar,
                closing_ar=closing_ar,
                closing_current_ar=closing_current,
                credit_sales=sold,
                dso=dso,
                countback_dso=_countback(ledger, currency, end, closing_ar),
                best_possible_dso=best,
                average_days_delinquent=dso - best
                if dso is not None and best is not None
                else None,
                cei=_times(
                    _ratio(opening_ar + sold - closing_ar, opening_ar + sold - closing_current),
                    HUNDRED,
                ),
                average_days_to_pay=weighted_days,
                invoices_paid=invoices_paid,
                orders_confirmed=confirmed,
                orders_fulfilled=fulfilled,
                orders_pending=pending,
                fulfilment_rate=_percent(fulfilled, confirmed - pending),
                invoices_issued=issued,
                invoices_credited=credited,
                invoice_accuracy=_percent(issued - credited, issued),
                payments_received=received,
                payments_auto_applied=auto,
                auto_match_rate=_percent(auto, received),
                open_disputes=disputes.get(currency, 0),
            )
        )
    return KpiReport(
        start=start, end=end, service_window_days=service_window_days, currencies=tuple(groups)
    )


def dso_trend(books: Books, end: date, months: int = 6) -> list[dict[str, Any]]:
    """Standard DSO per calendar month, oldest first: the last is the month of ``end`` up to it.

    Each: ``{"month": "YYYY-MM", "from", "to", "dso": {currency: "41.20" | None}}``.
    """
    if not 1 <= months <= COUNTBACK_MONTHS:
        raise ValueError(f"between 1 and {COUNTBACK_MONTHS} months")
    ledger = _Ledger(books)
    trend = []
    for first, last in reversed(list(_months_back(end, months))):
        days = Decimal((last - first).days + 1)
        ar = ledger.receivables(last)
        sales = ledger.credit_sales(first, last)
        trend.append(
            {
                "month": first.strftime("%Y-%m"),
                "from": first.isoformat(),
                "to": last.isoformat(),
                "dso": {
                    currency: _wire(
                        _times(
                            _ratio(ar.get(currency, (ZERO, ZERO))[0], sales.get(currency, ZERO)),
                            days,
                        )
                    )
                    for currency in sorted({*ar, *sales})
                },
            }
        )
    return trend


def _wire(value: Decimal | None) -> str | None:
    shown = rounded(value)
    return None if shown is None else str(shown)


def _times(value: Decimal | None, factor: Decimal) -> Decimal | None:
    return None if value is None else value * factor


def _percent(part: int, whole: int) -> Decimal | None:
    return Decimal(part) * HUNDRED / Decimal(whole) if whole > 0 else None


def _months_back(end: date, months: int) -> Iterable[tuple[date, date]]:
    """(first, last) of the month of ``end`` up to ``end``, then of the whole months before."""
    last = end
    for _ in range(months):
        first = last.replace(day=1)
        yield first, last
        last = first - timedelta(days=1)


def _countback(ledger: _Ledger, currency: str, end: date, ar: Decimal) -> Decimal | None:
    if ar <= 0:
        return ZERO if ar == 0 else None
    remaining, days = ar, ZERO
    for first, last in _months_back(end, COUNTBACK_MONTHS):
        length = Decimal((last - first).days + 1)
        sold = ledger.credit_sales(first, last).get(currency, ZERO)
        if sold > 0 and remaining <= sold:
            return days + remaining / sold * length
        days += length
        if sold > 0:
            remaining -= sold
    return None  # 24 months of sales do not account for AR: no meaningful figure


def _days_to_pay(ledger: _Ledger, start: date, end: date) -> dict[str, tuple[Decimal | None, int]]:
    """Currency -> (amount-weighted average days to pay, invoices counted)."""
    moves: dict[str, list[JournalEntry]] = defaultdict(list)
    for entry in ledger.entries:
        if entry.kind in CHARGE_KINDS or _posted_on(entry) > end:
            continue
        invoice_id = ledger.invoice_of[entry.entry_id]
        if invoice_id is not None:
            moves[invoice_id].append(entry)
    weighted: dict[str, Decimal] = defaultdict(lambda: ZERO)
    weights: dict[str, Decimal] = defaultdict(lambda: ZERO)
    counted: dict[str, int] = defaultdict(int)
    for invoice_id, entries in moves.items():
        document = ledger.documents.get(invoice_id)
        if document is None or document.kind != "invoice" or document.legacy:
            continue
        open_amount, settled = ZERO, ZERO
        paid_on: date | None = None
        for entry in entries:
            moved = _receivable(entry)
            if not moved:
                continue
            open_amount += moved
            if entry.kind in ("allocation", "unapplication"):
                settled -= moved
            paid_on = _posted_on(entry) if open_amount == 0 and entry.kind == "allocation" else None
        if paid_on is None or paid_on < start or settled <= 0:
            continue
        weighted[document.currency] += settled * (paid_on - document.issued_on).days
        weights[document.currency] += settled
        counted[document.currency] += 1
    return {
        currency: (_ratio(weighted[currency], weights[currency]), counted[currency])
        for currency in counted
    }


def _fulfilment(
    orders: Iterable[OrderFact], start: date, end: date, window_days: int
) -> dict[str, tuple[int, int, int]]:
    """Currency -> (orders first confirmed in the period, shipped complete in time, pending)."""
    found: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])
    closes = _end_of(end)
    window = timedelta(days=window_days)
    for order in orders:
        if (
            order.confirmed_at is None
            or not start <= order.confirmed_at.astimezone(UTC).date() <= end
        ):
            continue
        counts = found[order.currency]
        counts[0] += 1
        shipped = order.shipped_complete_at
        if shipped is not None and shipped <= closes:
            if shipped - order.confirmed_at <= window:
                counts[1] += 1
        elif order.confirmed_at + window > closes:
            counts[2] += 1
    return {currency: (c[0], c[1], c[2]) for currency, c in found.items()}


def _accuracy(
    invoices: Sequence[InvoiceFact], start: date, end: date
) -> dict[str, tuple[int, int]]:
    """Currency -> (invoices issued in the period, of them credited by the end)."""
    credited = {
        fact.credited_invoice_id
        for fact in invoices
        if fact.kind == "credit_note" and fact.issued_on <= end
    }
    found: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for fact in invoices:
        if fact.kind == "invoice" and not fact.legacy and start <= fact.issued_on <= end:
            found[fact.currency][0] += 1
            found[fact.currency][1] += fact.invoice_id in credited
    return {currency: (c[0], c[1]) for currency, c in found.items()}


def _auto_match(
    payments: Iterable[PaymentFact], start: date, end: date
) -> dict[str, tuple[int, int]]:
    """Currency -> (payments received in the period, of them auto-applied by the end)."""
    closes = _end_of(end)
    found: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for payment in payments:
        if start <= payment.received_at.astimezone(UTC).date() <= end:
            found[payment.currency][0] += 1
            applied = payment.auto_applied_at
            found[payment.currency][1] += applied is not None and applied <= closes
    return {currency: (c[0], c[1]) for currency, c in found.items()}


def _open_disputes(disputes: Iterable[DisputeFact], end: date) -> dict[str, int]:
    closes = _end_of(end)
    open_at: dict[str, set[str]] = defaultdict(set)
    for dispute in disputes:
        if dispute.opened_at <= closes and (
            dispute.closed_at is None or dispute.closed_at > closes
        ):
            open_at[dispute.currency].add(dispute.invoice_id)
    return {currency: len(invoices) for currency, invoices in open_at.items()}
