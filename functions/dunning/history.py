"""A customer's collection history (GET /customers/{customer_id}/collections).

- ``reminders``: the reminders the dunning runs recorded, newest first (what they listed, their
  totals, whether the e-mail went out);
- ``promises``: the promises to pay, newest first, each with its status now: ``open``,
  ``kept`` (the promised amount was paid since), ``broken`` (its day passed without it), or
  ``superseded`` (a later promise for the same invoice replaced it while it was still open);
- ``disputes``: the customer's invoices disputed now, each with its dispute events from the
  invoice's audit trail.

Staff read any customer's; a partner only its own customers' (another one's answers 404, like
GET /customers/{id}).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import date
from decimal import Decimal
from typing import Any

from functions.dunning.promises import today
from functions.dunning.promises import wire as promise_wire
from shared import errors
from shared.domain import dunning as dunning_domain
from shared.domain.access import Principal
from shared.domain.invoice import InvoiceStatus
from shared.domain.money import Money
from shared.store import customers, dunning, invoices, outbox, table
from shared.store.table import Item

MAX_ID_LENGTH = 64
LIMIT = 50  # reminders and promises shown, newest first
DISPUTED_PAGES = 20  # pages of the disputed-invoices listing read at most
DISPUTE_EVENTS = frozenset({"InvoiceDisputed", "InvoiceDisputeClosed"})
REMINDER_FIELDS = (
    "reminder_id",
    "as_of",
    "template",
    "status",
    "recipient",
    "message_id",
    "recorded_at",
    "sent_at",
    "attach_statement",
    "lines",
    "totals",
)


def collection_history(customer_id: str, principal: Principal) -> dict[str, Any]:
    """``{"customer_id", "name", "reminders", "promises", "disputes"}``."""
    if len(customer_id) > MAX_ID_LENGTH or not principal.may_act_for(customer_id):
        raise errors.NotFound(f"customer {customer_id}")
    customer = customers.get(customer_id)
    if customer is None:
        raise errors.NotFound(f"customer {customer_id}")
    return {
        "customer_id": customer_id,
        "name": customer.legal_name,
        "reminders": [_reminder(item) for item in dunning.reminders_for(customer_id, limit=LIMIT)],
        "promises": promises(dunning.promises_for(customer_id, limit=LIMIT), today()),
        "disputes": [_dispute(item) for item in _disputed(customer_id)],
    }


def promises(items: Iterable[dict[str, Any]], on: date) -> list[dict[str, Any]]:
    """The promises (newest first) with their status on ``on``, against what is due now."""
    found = [dunning_domain.Promise.from_wire(item) for item in items]
    invoice_ids = list(dict.fromkeys(promise.invoice_id for promise in found))
    read = table.get_many(invoices.invoice_key(i) for i in invoice_ids) if invoice_ids else []
    due = {item["invoice_id"]: _amount_due(item) for item in read}
    numbers = {
        item["invoice_id"]: item.get("number") or item.get("invoice_number") for item in read
    }
    current = {
        state.invoice_id: state.promise.promise_id
        for state in (dunning.states(invoice_ids).values() if invoice_ids else ())
        if state.promise is not None
    }
    newest: dict[str, str] = {}  # invoice id -> its newest promise (the list is newest first)
    for promise in found:
        newest.setdefault(promise.invoice_id, promise.promise_id)
    shown = []
    for promise in found:
        amount_due = due.get(promise.invoice_id, Decimal(0))
        latest = current.get(promise.invoice_id, newest[promise.invoice_id])
        replaced = (
            promise.promise_id != latest
            and promise.status_on(on, amount_due) is dunning_domain.PromiseStatus.OPEN
        )
        shown.append(
            {
                **promise_wire(promise, amount_due, on, superseded=replaced),
                "invoice_number": numbers.get(promise.invoice_id),
            }
        )
    return shown


def _amount_due(item: Item) -> Decimal:
    """What is due on an invoice item now (a legacy import keeps it as ``open_amount``)."""
    return Decimal(item["open_amount"] if invoices.is_legacy(item) else item["amount_due"])


def _reminder(item: dict[str, Any]) -> dict[str, Any]:
    """A reminder item as the API shows it (its lines read back as the domain writes them)."""
    shown = {name: _plain(item.get(name)) for name in REMINDER_FIELDS}
    shown["lines"] = [
        dunning_domain.ReminderLine.from_wire(line).to_wire() for line in item.get("lines") or []
    ]
    return shown


def _plain(value: Any) -> Any:
    """JSON-ready: the table hands numbers back as Decimal (whole ones become ints)."""
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else str(value)
    if isinstance(value, dict):
        return {key: _plain(inner) for key, inner in value.items()}
    if isinstance(value, list):
        return [_plain(inner) for inner in value]
    return value


def _disputed(customer_id: str) -> list[Item]:
    """The customer's invoices disputed now (the listing of disputed invoices, by due date)."""
    found: list[Item] = []
    cursor: str | None = None
    for _ in range(DISPUTED_PAGES):
        page = invoices.list_by_status(
            InvoiceStatus.DISPUTED, due_from=None, due_to=None, limit=100, cursor=cursor
        )
        found += [item for item in page.items if item.get("customer_id") == customer_id]
        if not (cursor := page.cursor):
            break
    return found


def _dispute(item: Item) -> dict[str, Any]:
    currency = item["currency"]
    events = [
        {
            "type": event["detail_type"],
            "occurred_at": event["occurred_at"],
            "payment_id": _data(event).get("payment_id"),
        }
        for event in outbox.history(item["invoice_id"])
        if event["detail_type"] in DISPUTE_EVENTS
    ]
    return {
        "invoice_id": item["invoice_id"],
        "number": item.get("number"),
        "due_on": item.get("due_on"),
        "amount_due": Money(amount=Decimal(item["amount_due"]), currency=currency).to_wire(),
        "status": item["status"],
        "events": events,
    }


def _data(event: Item) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(event["detail"]).get("data", {})
    return data
