"""The lake rows a committed item makes: a journal entry's postings, an event and its facts.

A journal entry lands as one row per posting, with the open item it moves (``tables.item_of``).
An event lands raw (``events``), and as the facts the reports read (functions/reporting/
reports.py derives them the same way, from the same items):

- an issued or imported document (InvoiceIssued, CreditNoteIssued, InvoiceImported): its row in
  ``documents``, read from the invoice item (figures as issued);
- a customer created, or renamed: its row in ``customers``;
- an order confirmed or shipped: the order's fact (first confirmed, shipped complete) from its
  history (no other order event changes it, and the lake's views read only confirmed orders); an
  order confirmed at its first change (version 2) is confirmed for the first time, and its fact
  is the event's own (no read);
- a payment received or applied: the payment's fact (received, applied by the matcher);
- any later event of an invoice: its disputes from its history, when it had any.

Facts that grow are landed whole each time they change, stamped ``recorded_at`` = the event's
time: the newest row of a key is the fact as it stands.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from datetime import date

from shared import clock
from shared.domain import invoice as invoice_domain
from shared.domain import order as order_domain
from shared.domain import payment as payment_domain
from shared.domain.reporting import OrderFact
from shared.lake import tables
from shared.lake.tables import Row
from shared.store import customers, decisions, invoices, ledger, orders, payments, table
from shared.store.table import Item

Landed = tuple[str, Row]  # (table, row)
ISSUED = frozenset({"InvoiceIssued", "CreditNoteIssued", "InvoiceImported"})
CUSTOMER_EVENTS = frozenset({"CustomerCreated", "CustomerUpdated"})
PAYMENT_FACTS = frozenset({"PaymentReceived", "PaymentApplied"})
ORDER_FACTS = frozenset({"OrderConfirmed", "OrderShipped"})
FIRST_CHANGE = 2  # an order's version after its first change (placed at 1)


def rows_of(item: Item) -> list[Landed]:
    """The rows a new table item makes (none for items that are neither entries nor events)."""
    if item.get("entity") == "LedgerEntry":
        entry = ledger.from_item(item)
        return [("journal", row) for row in tables.journal_rows(entry, tables.item_of(entry))]
    if item.get("entity") == "Event":
        return [("events", event_row(item)), *_facts(item)]
    return []


def event_row(item: Item) -> Row:
    detail = json.loads(item["detail"])
    return tables.event_row(
        event_id=item["event_id"],
        detail_type=item["detail_type"],
        source=item["source"],
        aggregate_id=item["aggregate_id"],
        occurred_at=clock.parse(item["occurred_at"]),
        actor=item.get("actor", ""),
        data=detail.get("data", {}),
    )


def _facts(item: Item) -> list[Landed]:
    detail_type, source = item["detail_type"], item["source"]
    for applies, derive in _DERIVATIONS:
        if applies(detail_type, source):
            return list(derive(item))
    return []


def _document(item: Item) -> Iterator[Landed]:
    found = invoices.get_item(item["aggregate_id"])
    if found is not None:
        recorded_at = clock.parse(item["occurred_at"])
        yield "documents", tables.document_row(invoices.fact(found), recorded_at)


def _customer(item: Item) -> Iterator[Landed]:
    data = json.loads(item["detail"]).get("data", {})
    if item["detail_type"] == "CustomerUpdated" and "legal_name" not in data.get("changes", {}):
        return
    name = data.get("legal_name")
    if name is None:
        account = customers.get(item["aggregate_id"])
        name = account.legal_name if account else None
    if name is not None:
        recorded_at = clock.parse(item["occurred_at"])
        yield "customers", tables.customer_row(item["aggregate_id"], name, recorded_at)


def _order(item: Item) -> Iterator[Landed]:
    from functions.reporting.reports import _order_fact

    recorded_at = clock.parse(item["occurred_at"])
    data = json.loads(item["detail"]).get("data", {})
    if item["detail_type"] == "OrderConfirmed" and data.get("version") == FIRST_CHANGE:
        # confirmed at its first change, so for the first time: the fact is the event's own
        first = OrderFact(
            order_id=item["aggregate_id"],
            customer_id=data["customer_id"],
            currency=data["currency"],
            confirmed_at=recorded_at,
        )
        yield "orders", tables.order_row(first, recorded_at)
        return
    found = table.get(*orders.order_key(item["aggregate_id"]))
    if found is not None and "customer_id" in found:
        fact = _order_fact(found, changed_since=date.min)
        if fact is not None:
            yield "orders", tables.order_row(fact, recorded_at)


def _payment(item: Item) -> Iterator[Landed]:
    from functions.reporting.reports import _payment_fact

    payment_id = item["aggregate_id"]
    found = table.get(*payments.payment_key(payment_id))
    if found is not None:
        fact = _payment_fact(found, decisions.get_many([payment_id]).get(payment_id))
        recorded_at = clock.parse(item["occurred_at"])
        yield "payments", tables.payment_row(fact, found.get("customer_id"), recorded_at)


def _disputes(item: Item) -> Iterator[Landed]:
    from functions.reporting.reports import _disputes as disputes_of

    found = invoices.get_item(item["aggregate_id"])
    if found is None:
        return
    recorded_at = clock.parse(item["occurred_at"])
    for dispute in disputes_of(invoices.fact(found)):
        yield "disputes", tables.dispute_row(dispute, recorded_at)


_DERIVATIONS: tuple[tuple[Callable[[str, str], bool], Callable[[Item], Iterator[Landed]]], ...] = (
    (lambda detail_type, _source: detail_type in ISSUED, _document),
    (lambda detail_type, _source: detail_type in CUSTOMER_EVENTS, _customer),
    (lambda kind, source: source == order_domain.SOURCE and kind in ORDER_FACTS, _order),
    (lambda kind, source: source == payment_domain.SOURCE and kind in PAYMENT_FACTS, _payment),
    (lambda _detail_type, source: source == invoice_domain.SOURCE, _disputes),
)
