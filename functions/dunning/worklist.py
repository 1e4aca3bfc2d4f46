"""The collections worklist (GET /collections/worklist?as_of=&limit=): whom to call first.

Every customer with an invoice overdue on ``as_of`` (due before it, still open, partially paid
or disputed), ordered: customers with a broken promise first, then by risk, the sum over their
overdue invoices of amount due x days overdue (money that has waited longest weighs most),
largest first. Risk adds amounts of different currencies as plain numbers: it orders the
list, it is no amount of money.

``sort=risk`` orders by the customers' payment risk score instead (their behaviour over the 12
months to ``as_of`` in the lake, functions/reporting/behaviour.py; the highest of their
currencies), riskiest first, customers the lake knows nothing of last; each entry then carries
its ``risk_score``.

Read from the sparse ``open_by_due`` index (a Query of the keys due before ``as_of``, never a
Scan), then one BatchGetItem round for the invoices, one for their dunning states and one for
the customers. The whole list is ranked, then capped at ``limit``: ``customers_total`` says how
many there were.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from enum import StrEnum
from typing import Any

from pydantic import ConfigDict, Field

from functions.dunning.promises import today
from shared.domain import dunning as dunning_domain
from shared.domain.dates import BusinessDate
from shared.domain.dunning import DueInvoice
from shared.domain.invoice import InvoiceStatus
from shared.domain.money import Money
from shared.model import Model
from shared.store import customers, dunning, invoices, open_invoices, readable, table
from shared.store.table import Item

MAX_LIMIT = 200


class WorklistSort(StrEnum):
    URGENCY = "urgency"  # broken promises, then amount due x days overdue
    RISK = "risk"  # the payment risk score from the customers' behaviour


class WorklistQuery(Model):
    """The query string of GET /collections/worklist (values arrive as text)."""

    model_config = ConfigDict(extra="forbid")

    as_of: BusinessDate | None = None  # default: today
    limit: int = Field(default=50, ge=1, le=MAX_LIMIT)
    sort: WorklistSort = WorklistSort.URGENCY


@dataclass
class CustomerEntry:
    customer_id: str
    invoices: list[tuple[DueInvoice, dunning_domain.InvoiceDunning]] = field(default_factory=list)

    def risk(self, as_of: date) -> Decimal:
        return sum(
            (inv.amount_due * inv.days_overdue(as_of) for inv, _ in self.invoices), Decimal(0)
        )

    def broken_promise(self, as_of: date) -> bool:
        return any(_broken(inv, state, as_of) for inv, state in self.invoices)


def worklist(query: WorklistQuery) -> dict[str, Any]:
    """``{"as_of", "customers": [...], "customers_total", "truncated"}``, most urgent first."""
    with readable.skipping() as skipped:  # a record that does not read is named, not fatal
        return {**_worklist(query), "skipped": readable.wire(skipped)}


def _worklist(query: WorklistQuery) -> dict[str, Any]:
    as_of = query.as_of or today()
    overdue = overdue_invoices(as_of)
    states = dunning.states([inv.invoice_id for inv in overdue]) if overdue else {}
    entries: dict[str, CustomerEntry] = {}
    for inv in overdue:
        entry = entries.setdefault(inv.customer_id, CustomerEntry(inv.customer_id))
        state = states.get(inv.invoice_id) or dunning_domain.InvoiceDunning(
            invoice_id=inv.invoice_id
        )
        entry.invoices.append((inv, state))
    ranked = sorted(
        entries.values(),
        key=lambda e: (not e.broken_promise(as_of), -e.risk(as_of), e.customer_id),
    )
    scores: dict[str, Decimal] | None = None
    if query.sort is WorklistSort.RISK:
        from functions.reporting.behaviour import risk_scores

        scores = risk_scores(as_of)
        ranked = _by_score(ranked, scores)
    shown = ranked[: query.limit]
    names = {c.customer_id: c.legal_name for c in customers.get_many(e.customer_id for e in shown)}
    return {
        "as_of": as_of.isoformat(),
        "sort": query.sort.value,
        "customers": [_entry_wire(e, names.get(e.customer_id), as_of, scores) for e in shown],
        "customers_total": len(ranked),
        "truncated": len(ranked) > len(shown),
    }


def _by_score(ranked: list[CustomerEntry], scores: dict[str, Decimal]) -> list[CustomerEntry]:
    """Riskiest first, then those without a score; ties keep the urgency order."""
    return sorted(
        ranked,
        key=lambda e: (e.customer_id not in scores, -scores.get(e.customer_id, Decimal(0))),
    )


def overdue_invoices(as_of: date) -> list[DueInvoice]:
    """Every invoice with something due that fell due before ``as_of``, as last written."""
    items = table.get_many(open_invoices.due_before(as_of))
    read = readable.each(items, _overdue)
    found = [inv for inv in read if inv is not None and inv.due_on < as_of]
    return sorted(found, key=lambda inv: (inv.due_on, inv.number))


def _overdue(item: Item) -> DueInvoice | None:
    """The item as an overdue candidate; None once settled (the index may lag the item)."""
    invoice = dunning.due_invoice(item)
    if invoice is None or invoice.status not in invoices.OPEN_STATUSES or invoice.amount_due <= 0:
        return None
    return invoice


def _broken(inv: DueInvoice, state: dunning_domain.InvoiceDunning, as_of: date) -> bool:
    """Flagged by a run, or a promise whose date passed without the money (no run yet)."""
    if state.broken_promise:
        return True
    return (
        state.promise is not None
        and state.promise.status_on(as_of, inv.amount_due) is dunning_domain.PromiseStatus.BROKEN
    )


def _open_promise(inv: DueInvoice, state: dunning_domain.InvoiceDunning, as_of: date) -> bool:
    return (
        state.promise is not None
        and state.promise.status_on(as_of, inv.amount_due) is dunning_domain.PromiseStatus.OPEN
    )


def _entry_wire(
    entry: CustomerEntry, name: str | None, as_of: date, scores: dict[str, Decimal] | None
) -> dict[str, Any]:
    totals: dict[str, Decimal] = defaultdict(Decimal)
    for inv, _ in entry.invoices:
        totals[inv.currency] += inv.amount_due
    scored = {} if scores is None else {"risk_score": _score(scores.get(entry.customer_id))}
    return {
        **scored,
        "customer_id": entry.customer_id,
        "name": name,
        "overdue": [
            Money(amount=amount, currency=currency).to_wire()
            for currency, amount in sorted(totals.items())
        ],
        "oldest_days_overdue": max(inv.days_overdue(as_of) for inv, _ in entry.invoices),
        "risk": str(entry.risk(as_of)),
        "broken_promise": entry.broken_promise(as_of),
        "open_promises": sum(_open_promise(inv, state, as_of) for inv, state in entry.invoices),
        "disputed": sum(inv.status == InvoiceStatus.DISPUTED for inv, _ in entry.invoices),
        "invoices": [_invoice_wire(inv, state, as_of) for inv, state in entry.invoices],
    }


def _score(score: Decimal | None) -> str | None:
    return None if score is None else str(score)


def _invoice_wire(
    inv: DueInvoice, state: dunning_domain.InvoiceDunning, as_of: date
) -> dict[str, Any]:
    promise = None
    if state.promise is not None:
        status = state.promise.status_on(as_of, inv.amount_due)
        promise = {**state.promise.to_wire(), "status": status.value}
    return {
        "invoice_id": inv.invoice_id,
        "number": inv.number,
        "legacy": inv.legacy,
        "due_on": inv.due_on.isoformat(),
        "days_overdue": inv.days_overdue(as_of),
        "amount_due": Money(amount=inv.amount_due, currency=inv.currency).to_wire(),
        "status": inv.status,
        "last_level": state.last_level,
        "promise": promise,
        "broken_promise": _broken(inv, state, as_of),
    }
