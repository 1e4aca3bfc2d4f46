"""Apply customer credits automatically, by the customer's policy (the credit-application worker).

A customer whose ``credit_application`` is ``oldest_first`` has its open credits applied to its
open invoices and its open fee and interest charges (a charge is due the day it was charged),
oldest credit to the oldest due item first, whenever one of them appears:

- ``CreditNoteIssued``: a credit note may have left a credit (its invoice was paid);
- ``PaymentApplied``: cash application may have left part of a payment over (an overpayment);
- ``InvoiceIssued``: a new invoice the credits the customer holds can pay.

Each application is ONE transaction of its own (``apply_credit.apply_to_invoice``), its id
derived from the event, the credit and the invoice; the worker re-reads credits and invoices
before each, so a redelivered event finds nothing left to do (or finishes what the first
delivery left), and an application is never written twice. ``manual`` customers are left alone.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from decimal import Decimal

from functions.credits.application import apply_to_invoice
from functions.credits.charge_application import apply_to_charge
from shared import ids
from shared.adapters.bus_events import BusEvent
from shared.domain.charges import Charge
from shared.domain.invoice import DocumentKind, Invoice, InvoiceStatus
from shared.observability import logger
from shared.store import charges as charge_store
from shared.store import customer_credits, customers, invoices, readable
from shared.store.outbox import StaleStateError

POLICY = "oldest_first"
APPLIED_BY = "credit-policy"
MAX_APPLICATIONS = 200  # per event: what one delivery applies before it lets SQS continue
ATTEMPTS = 5


def apply_for_event(message: BusEvent) -> int:
    """The number of applications made for this event (0 for a manual customer)."""
    customer_id = message.detail.data.get("customer_id")
    if not customer_id:
        return 0
    customer = customers.get(customer_id, consistent=True)
    if customer is None or customer.credit_application != POLICY:
        return 0
    return apply_oldest_first(customer_id, message.detail.metadata.event_id)


def apply_oldest_first(customer_id: str, event_id: str) -> int:
    """Apply the customer's open credits to its open invoices, oldest first, until either runs
    out. Raises ``StaleStateError`` when others keep writing (SQS delivers the event again)."""
    applied = 0
    stale = 0
    while applied < MAX_APPLICATIONS:
        credits = customer_credits.open_credits(customer_id)
        due = open_items(customer_id)
        if not credits or not due:
            break
        credit, item = credits[0], due[0]
        amount = min(credit.remaining, item.amount_due)
        item_id = item.charge_id if isinstance(item, Charge) else item.invoice_id
        application_id = ids.derived_id(
            "cap", f"{event_id}#{credit.source_id}#{item_id}#{item.version}"
        )
        apply: Callable[..., object] = (
            apply_to_charge if isinstance(item, Charge) else apply_to_invoice
        )
        try:
            apply(
                customer_id,
                credit.kind,
                credit.source_id,
                item,
                amount,
                by=APPLIED_BY,
                application_id=application_id,
            )
        except StaleStateError:
            stale += 1
            if stale >= ATTEMPTS:
                raise
            continue
        applied += 1
        logger.info(
            "credit applied by policy",
            extra={
                "customer_id": customer_id,
                "source_id": credit.source_id,
                "item_id": item_id,
            },
        )
    return applied


def open_items(customer_id: str) -> list[Invoice | Charge]:
    """The open invoices and charges the credits go to, oldest due first (a charge is due the
    day it was charged)."""
    items: list[Invoice | Charge] = [
        *open_invoices(customer_id),
        *charge_store.open_for(customer_id),
    ]
    return sorted(items, key=_due_order)


def _due_order(item: Invoice | Charge) -> tuple[date, str]:
    if isinstance(item, Charge):
        return item.charged_on, item.charge_id
    return item.due_on or item.issued_at.date(), item.number


def open_invoices(customer_id: str) -> list[Invoice]:
    """The customer's invoices with something due (not disputed), oldest due first."""
    found: list[Invoice] = []
    cursor: str | None = None
    while True:
        page = invoices.list_for_customer(
            customer_id, since=None, until=None, limit=200, cursor=cursor
        )
        ours = [item for item in page.items if not invoices.is_legacy(item)]
        for invoice in readable.each(ours, invoices.from_item):
            if (
                invoice.kind is DocumentKind.INVOICE
                and invoice.amount_due > Decimal(0)
                and invoice.status is not InvoiceStatus.DISPUTED
            ):
                found.append(invoice)
        if not (cursor := page.cursor):
            break
    return sorted(found, key=lambda inv: (inv.due_on or inv.issued_at.date(), inv.number))
