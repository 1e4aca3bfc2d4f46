"""AR aging and KPIs rebuilt from the books (answered by read_reports, snapshotted nightly).

The books are read from the single table: every customer (``customers.list_page``), each
customer's ledger (``ledger.entries_for``, and the suspense ledger of unidentified payers) and
documents (invoices, credit notes, legacy invoices), and for the KPIs the dated facts of the
period from the immutable event items (``outbox.history``): when an order was first confirmed and
shipped complete, when an invoice's dispute opened and closed; payments received and the
matcher's decisions. The arithmetic is in shared/domain/aging.py and kpis.py.

Cost: one ledger query and one document query per customer; the KPIs add the customer's payments
and orders of the period, one event-history query per order active in the period, and one per
invoice that had cash applied (disputes only arise there).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date, datetime
from typing import Any

from shared import clock
from shared.domain import aging, kpis, open_items, reporting
from shared.domain import invoice as invoice_domain
from shared.domain.aging import AgingReport
from shared.domain.customer import Customer
from shared.domain.invoice import InvoiceStatus
from shared.domain.kpis import KpiReport
from shared.domain.open_items import OpenItemsReport
from shared.domain.reporting import Books, DisputeFact, InvoiceFact, OrderFact, PaymentFact
from shared.store import customers, decisions, invoices, orders, outbox, payments, readable
from shared.store import ledger as ledger_store
from shared.store.table import Item

PAGE = 100
UNIDENTIFIED_NAME = "Unidentified payers"


def aging_report(as_of: date, edges: tuple[int, ...] = aging.DEFAULT_EDGES) -> AgingReport:
    """AR aging at the end of ``as_of`` (UTC); ``edges`` the buckets' upper days past due."""
    return aging.aging(_books(as_of), as_of, edges)


def open_items_report(as_of: date, edges: tuple[int, ...] = aging.DEFAULT_EDGES) -> OpenItemsReport:
    """Every item open at the end of ``as_of`` (UTC), as the aging counts them: by currency,
    customer name and due day, each with its days past due and aging bucket."""
    return open_items.from_books(reporting.IndexedBooks(_books(as_of)), as_of, edges)


def kpi_report(start: date, end: date) -> KpiReport:
    """The KPIs of ``start``..``end`` (both included), per currency."""
    if start > end:
        raise ValueError(f"'from' ({start}) is after 'to' ({end})")
    return kpis.kpis(_books(end, activity_from=start), start, end)


def dso_trend(end: date, months: int = 6) -> list[dict[str, Any]]:
    """Standard DSO per calendar month up to ``end``, oldest first (see kpis.dso_trend)."""
    return kpis.dso_trend(_books(end), end, months)


def _books(until: date, *, activity_from: date | None = None) -> Books:
    """The books as they stood at the end of ``until``; with ``activity_from``, the event facts
    of ``activity_from``..``until`` too (payments, orders, disputes)."""
    entries = []
    facts: list[InvoiceFact] = []
    names: dict[str, str] = {payments.UNIDENTIFIED: UNIDENTIFIED_NAME}
    owners = [*_all_customers()]
    for customer in owners:
        names[customer.customer_id] = customer.legal_name
        entries += ledger_store.entries_for(customer.customer_id)
        facts += readable.each(_documents(customer.customer_id, until), invoices.fact)
    entries += ledger_store.entries_for(payments.UNIDENTIFIED)
    books = Books(entries=entries, invoices=facts, customer_names=names)
    if activity_from is None:
        return books
    ids = [customer.customer_id for customer in owners]
    applied_to = {
        invoice_id
        for entry in entries
        if entry.kind == "allocation" and entry.posted_at.date() <= until
        if (invoice_id := reporting.attributed_invoice(entry, {})) is not None
    }
    by_id = {fact.invoice_id: fact for fact in facts}
    return Books(
        entries=entries,
        invoices=facts,
        customer_names=names,
        orders=[
            fact for customer_id in ids for fact in _order_facts(customer_id, activity_from, until)
        ],
        payments=[
            fact
            for customer_id in [*ids, None]
            for fact in _payment_facts(customer_id, activity_from, until)
        ],
        disputes=[
            dispute
            for invoice_id in sorted(applied_to)
            if invoice_id in by_id
            for dispute in _disputes(by_id[invoice_id])
        ],
    )


def _all_customers() -> Iterator[Customer]:
    cursor: str | None = None
    while True:
        page, cursor = customers.list_page(limit=PAGE, cursor=cursor)
        yield from page
        if not cursor:
            return


def _documents(customer_id: str, until: date) -> list[Item]:
    """The customer's documents issued on or before ``until`` (legacy invoices too)."""
    found: list[Item] = []
    cursor: str | None = None
    while True:
        page = invoices.list_for_customer(
            customer_id, since=None, until=until.isoformat(), limit=PAGE, cursor=cursor
        )
        found += page.items
        if not (cursor := page.cursor):
            return found


def _events(aggregate_id: str) -> list[tuple[str, datetime, dict[str, Any]]]:
    """(detail type, occurred at, data) of the aggregate's events, oldest first."""
    return readable.each(outbox.history(aggregate_id), _event)


def _event(item: Item) -> tuple[str, datetime, dict[str, Any]]:
    data = json.loads(item["detail"]).get("data", {})
    return item["detail_type"], clock.parse(item["occurred_at"]), data


def _order_facts(customer_id: str, start: date, end: date) -> list[OrderFact]:
    """The customer's orders placed by ``end`` and changed since ``start`` (an order first
    confirmed in the period was last changed at or after its confirmation)."""
    found: list[OrderFact] = []
    cursor: str | None = None
    while True:
        page = orders.list_for_customer(
            customer_id, since=None, until=end.isoformat(), limit=PAGE, cursor=cursor
        )
        changed = readable.each(page.items, lambda item: _order_fact(item, changed_since=start))
        found += [fact for fact in changed if fact is not None]
        if not (cursor := page.cursor):
            return found


def _order_fact(item: Item, *, changed_since: date) -> OrderFact | None:
    """The order's fact, or None when it was last changed before ``changed_since``."""
    if clock.parse(item["updated_at"]).date() < changed_since:
        return None
    confirmed_at = shipped_at = None
    for detail_type, at, data in _events(item["order_id"]):
        if detail_type == "OrderConfirmed" and confirmed_at is None:
            confirmed_at = at
        elif detail_type == "OrderShipped" and data.get("status") == "shipped" and not shipped_at:
            shipped_at = at
    return OrderFact(
        order_id=item["order_id"],
        customer_id=item["customer_id"],
        currency=item["currency"],
        confirmed_at=confirmed_at,
        shipped_complete_at=shipped_at,
    )


def _payment_facts(customer_id: str | None, start: date, end: date) -> list[PaymentFact]:
    """Payments received ``start``..``end`` (``None``: those of no known customer), with when
    the matcher applied each on its own (its decision record: ``auto``)."""
    items: list[Item] = []
    cursor: str | None = None
    while True:
        page = payments.list_for_customer(
            customer_id,
            since=start.isoformat(),
            until=end.isoformat(),
            limit=PAGE,
            cursor=cursor,
        )
        items += page.items
        if not (cursor := page.cursor):
            break
    decided = decisions.get_many(item["payment_id"] for item in items if "payment_id" in item)
    return readable.each(items, lambda item: _payment_fact(item, decided.get(item["payment_id"])))


def _payment_fact(item: Item, decision: dict[str, Any] | None) -> PaymentFact:
    auto = bool(decision and decision.get("auto") and decision.get("decided_at"))
    return PaymentFact(
        payment_id=item["payment_id"],
        currency=item["currency"],
        received_at=clock.parse(item["received_at"]),
        auto_applied_at=clock.parse(decision["decided_at"]) if decision and auto else None,
    )


def _disputes(invoice: InvoiceFact) -> list[DisputeFact]:
    """The invoice's disputes from its audit trail: every invoicing event carries the invoice as
    written, so a dispute lasts from the first event showing it ``disputed`` to the first after
    it that does not (closed, or the contested payment taken back)."""
    found: list[DisputeFact] = []
    opened: datetime | None = None
    for detail_source, at, status in readable.each(outbox.history(invoice.invoice_id), _status):
        if detail_source != invoice_domain.SOURCE:
            continue
        if status == InvoiceStatus.DISPUTED and opened is None:
            opened = at
        elif status != InvoiceStatus.DISPUTED and opened is not None:
            found.append(_dispute(invoice, opened, at))
            opened = None
    if opened is not None:
        found.append(_dispute(invoice, opened, None))
    return found


def _status(item: Item) -> tuple[str, datetime, Any]:
    """(source, occurred at, the status the event shows) of an aggregate's event."""
    status = json.loads(item["detail"]).get("data", {}).get("status")
    return item["source"], clock.parse(item["occurred_at"]), status


def _dispute(invoice: InvoiceFact, opened: datetime, closed: datetime | None) -> DisputeFact:
    return DisputeFact(
        invoice_id=invoice.invoice_id,
        currency=invoice.currency,
        opened_at=opened,
        closed_at=closed,
    )
