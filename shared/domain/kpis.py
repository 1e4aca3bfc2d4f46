"""The receivables KPIs of a period (DSO, CEI, days to pay, ...), rebuilt from the books.

Each formula is on ``kpis``; ratios and days are rounded half-up to 2 decimals for the wire.
"""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, date, timedelta
from decimal import Decimal
from typing import Any

from pydantic import ConfigDict, field_validator

from shared.domain.ledger import Account, JournalEntry
from shared.domain.money import quantize
from shared.domain.reporting import (
    CHARGE_KINDS,
    ZERO,
    Books,
    DisputeFact,
    IndexedBooks,
    InvoiceFact,
    OrderFact,
    PaymentFact,
    end_of,
    posted_on,
    receivable,
    rounded,
    wire,
)
from shared.model import Model

HUNDRED = Decimal(100)
SERVICE_WINDOW_DAYS = 3
COUNTBACK_MONTHS = 24  # how far countback DSO looks back at most
AMOUNTS = frozenset({"opening_ar", "closing_ar", "closing_current_ar", "credit_sales"})


class CurrencyKpis(Model):
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


class KpiReport(Model):
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
    ledger = IndexedBooks(books)
    days = Decimal((end - start).days + 1)
    # Nothing was owed before the calendar's first day.
    opening = ledger.receivables(start - timedelta(days=1)) if start > date.min else {}
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
        weighted_days, invoices_paid = paid.get(currency, (None, 0))
        groups.append(
            figures(
                currency,
                days,
                opening_ar=opening_ar,
                closing_ar=closing_ar,
                closing_current_ar=closing_current,
                credit_sales=sales.get(currency, ZERO),
                countback_dso=_countback(ledger, currency, end, closing_ar),
                average_days_to_pay=weighted_days,
                invoices_paid=invoices_paid,
                orders=orders.get(currency, (0, 0, 0)),
                accuracy=accuracy.get(currency, (0, 0)),
                matching=matching.get(currency, (0, 0)),
                open_disputes=disputes.get(currency, 0),
            )
        )
    return KpiReport(
        start=start, end=end, service_window_days=service_window_days, currencies=tuple(groups)
    )


def figures(
    currency: str,
    days: Decimal,
    *,
    opening_ar: Decimal,
    closing_ar: Decimal,
    closing_current_ar: Decimal,
    credit_sales: Decimal,
    countback_dso: Decimal | None,
    average_days_to_pay: Decimal | None,
    invoices_paid: int,
    orders: tuple[int, int, int],
    accuracy: tuple[int, int],
    matching: tuple[int, int],
    open_disputes: int,
) -> CurrencyKpis:
    """One currency's KPIs from their parts (the formulas are on ``kpis``): ``orders`` is
    (confirmed, fulfilled, pending), ``accuracy`` (issued, credited), ``matching`` (received,
    auto-applied). The lake's queries (shared/lake) give the same parts."""
    dso = _times(_ratio(closing_ar, credit_sales), days)
    best = _times(_ratio(closing_current_ar, credit_sales), days)
    confirmed, fulfilled, pending = orders
    issued, credited = accuracy
    received, auto = matching
    return CurrencyKpis(
        currency=currency,
        opening_ar=opening_ar,
        closing_ar=closing_ar,
        closing_current_ar=closing_current_ar,
        credit_sales=credit_sales,
        dso=dso,
        countback_dso=countback_dso,
        best_possible_dso=best,
        average_days_delinquent=dso - best if dso is not None and best is not None else None,
        cei=_times(
            _ratio(
                opening_ar + credit_sales - closing_ar,
                opening_ar + credit_sales - closing_current_ar,
            ),
            HUNDRED,
        ),
        average_days_to_pay=average_days_to_pay,
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
        open_disputes=open_disputes,
    )


def dso_trend(books: Books, end: date, months: int = 6) -> list[dict[str, Any]]:
    """Standard DSO per calendar month, oldest first: the last is the month of ``end`` up to it.

    Each: ``{"month": "YYYY-MM", "from", "to", "dso": {currency: "41.20" | None}}``.
    """
    ledger = IndexedBooks(books)
    trend = []
    for first, last in trend_months(end, months):
        ar = {currency: amounts[0] for currency, amounts in ledger.receivables(last).items()}
        trend.append(month_dso(first, last, ar, ledger.credit_sales(first, last)))
    return trend


def trend_months(end: date, months: int) -> list[tuple[date, date]]:
    """(first, last) of each month of a DSO trend, oldest first (the last: the month of ``end``
    up to ``end``)."""
    if not 1 <= months <= COUNTBACK_MONTHS:
        raise ValueError(f"between 1 and {COUNTBACK_MONTHS} months")
    return list(reversed(list(_months_back(end, months))))


def month_dso(
    first: date, last: date, ar: Mapping[str, Decimal], sales: Mapping[str, Decimal]
) -> dict[str, Any]:
    """A month of the DSO trend from AR at its last day and its credit sales, per currency."""
    days = Decimal((last - first).days + 1)
    return {
        "month": first.strftime("%Y-%m"),
        "from": first.isoformat(),
        "to": last.isoformat(),
        "dso": {
            currency: wire(_times(_ratio(ar.get(currency, ZERO), sales.get(currency, ZERO)), days))
            for currency in sorted({*ar, *sales})
        },
    }


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
        if first == date.min:  # the calendar has no month before
            return
        last = first - timedelta(days=1)


def countback(
    ar: Decimal, covering: tuple[Decimal, Decimal, Decimal, Decimal] | None
) -> Decimal | None:
    """Countback DSO from the month whose sales cover what is left of AR: ``covering`` is
    (the days of the later months, AR left for it, its sales, its days); None when no month
    within 24 covers it. 0 for no AR, None for a credit balance."""
    if ar <= 0:
        return ZERO if ar == 0 else None
    if covering is None:
        return None  # 24 months of sales do not account for AR: no meaningful figure
    days, rest, sold, length = covering
    return days + rest / sold * length


def _countback(ledger: IndexedBooks, currency: str, end: date, ar: Decimal) -> Decimal | None:
    return countback(ar, _covering(ledger, currency, end, ar) if ar > 0 else None)


def _covering(
    ledger: IndexedBooks, currency: str, end: date, ar: Decimal
) -> tuple[Decimal, Decimal, Decimal, Decimal] | None:
    remaining, days = ar, ZERO
    for first, last in _months_back(end, COUNTBACK_MONTHS):
        length = Decimal((last - first).days + 1)
        sold = ledger.credit_sales(first, last).get(currency, ZERO)
        if sold > 0 and remaining <= sold:
            return days, remaining, sold, length
        days += length
        if sold > 0:
            remaining -= sold
    return None


def _days_to_pay(
    ledger: IndexedBooks, start: date, end: date
) -> dict[str, tuple[Decimal | None, int]]:
    """Currency -> (amount-weighted average days to pay, invoices counted)."""
    moves: dict[str, list[JournalEntry]] = defaultdict(list)
    for entry in ledger.entries:
        if entry.kind in CHARGE_KINDS or entry.charge_id or posted_on(entry) > end:
            continue  # a fee or interest, or cash on one, is an item of its own
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
            moved = receivable(entry)
            if not moved:
                continue
            open_amount += moved
            if entry.kind in ("allocation", "unapplication"):
                settled -= moved
            paid_on = posted_on(entry) if open_amount == 0 and _pays(entry) else None
        if paid_on is None or paid_on < start or settled <= 0:
            continue
        weighted[document.currency] += settled * (paid_on - document.issued_on).days
        weights[document.currency] += settled
        counted[document.currency] += 1
    return {
        currency: (_ratio(weighted[currency], weights[currency]), counted[currency])
        for currency in counted
    }


def _pays(entry: JournalEntry) -> bool:
    """Cash applied, or the small difference a payment left within the tolerance: either one
    closing an invoice makes it paid (a bad-debt write-off does not)."""
    return entry.kind == "allocation" or (
        entry.kind == "write_off"
        and any(posting.account is Account.SMALL_DIFFERENCES for posting in entry.postings)
    )


def _fulfilment(
    orders: Iterable[OrderFact], start: date, end: date, window_days: int
) -> dict[str, tuple[int, int, int]]:
    """Currency -> (orders first confirmed in the period, shipped complete in time, pending)."""
    found: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])
    closes = end_of(end)
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
    closes = end_of(end)
    found: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for payment in payments:
        if start <= payment.received_at.astimezone(UTC).date() <= end:
            found[payment.currency][0] += 1
            applied = payment.auto_applied_at
            found[payment.currency][1] += applied is not None and applied <= closes
    return {currency: (c[0], c[1]) for currency, c in found.items()}


def _open_disputes(disputes: Iterable[DisputeFact], end: date) -> dict[str, int]:
    closes = end_of(end)
    open_at: dict[str, set[str]] = defaultdict(set)
    for dispute in disputes:
        if dispute.opened_at <= closes and (
            dispute.closed_at is None or dispute.closed_at > closes
        ):
            open_at[dispute.currency].add(dispute.invoice_id)
    return {currency: len(invoices) for currency, invoices in open_at.items()}
