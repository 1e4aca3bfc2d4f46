"""Collections in the single table: per-invoice dunning state, level markers, promises, reminders.

- state: ``DUNNING#<invoice id>`` / ``STATE``: the invoice's collection state (last level sent,
  interest charged so far, the open promise, a broken-promise flag) at a ``version``;
- level marker: ``DUNNING#<invoice id>`` / ``LEVEL#<nn>``: put once per (invoice, level) with
  ``attribute_not_exists``: whatever runs overlap or retry, a level (and its fee) happens once;
- promise: ``DUNNING#<invoice id>`` / ``PROMISE#<recorded at>#<promise id>``; gsi1
  ``CUSTOMER#<customer id>`` / ``PROMISE#<recorded at>#<promise id>``;
- last reminder: ``CUSTOMER#<customer id>`` / ``REMINDED``: the day (and id) of the reminder
  recorded last, put with it: the worker reads it with the account;
- reminder: ``REMINDER#<reminder id>`` / ``REMINDER``, one per customer per day
  (``rem_<customer id>_<yyyymmdd>``): what the e-mail says, ``recorded`` until it went out, then
  ``sent`` with SES's MessageId; gsi1 ``CUSTOMER#<customer id>`` / ``REMINDER#<as of>#<id>``;
- reminder part: ``REMINDER#<reminder id>`` / ``PART#<nnnn>``: the part of the day's plan one
  transaction recorded (a reminder too large for one transaction is recorded in parts, numbered
  from 1 without gaps: two attempts adding the same number, one is refused), the reminder then
  joined from them;
- reminding: ``CUSTOMER#<customer id>`` / ``REMINDING``: the reminders with parts recorded and
  the reminder not yet (read with the account: only then are the parts read).

The collection run reads the sparse ``open_by_due`` index (keys only, ``OPEN`` /
``<due on>#<customer id>#<number>``) up to a due date: what it reads grows with what is due, not
with the table.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from shared import clock
from shared.domain.dunning import DueInvoice, InvoiceDunning, Promise, ReminderLine, ReminderPlan
from shared.domain.invoice import DocumentKind
from shared.store import invoices, open_invoices, readable, table
from shared.store.table import Item, Put, Update

STATE_SORT_KEY = "STATE"
REMINDER_SORT_KEY = "REMINDER"
RECORDED = "recorded"
SENT = "sent"
PART_PREFIX = "PART#"
REMINDING_SORT_KEY = "REMINDING"


def dunning_pk(invoice_id: str) -> str:
    return f"DUNNING#{invoice_id}"


def state_key(invoice_id: str) -> tuple[str, str]:
    return dunning_pk(invoice_id), STATE_SORT_KEY


def level_key(invoice_id: str, level: int) -> tuple[str, str]:
    return dunning_pk(invoice_id), f"LEVEL#{level:02d}"


def reminder_id_for(customer_id: str, as_of: date) -> str:
    return f"rem_{customer_id}_{as_of:%Y%m%d}"


def reminder_key(reminder_id: str) -> tuple[str, str]:
    return f"REMINDER#{reminder_id}", REMINDER_SORT_KEY


def part_key(reminder_id: str, number: int) -> tuple[str, str]:
    return f"REMINDER#{reminder_id}", f"{PART_PREFIX}{number:04d}"


# --- the run's read: what is due ---------------------------------------------------------------


@dataclass
class DueIndex:
    """The open invoices due up to a date, by customer (invoice ids in due-date order)."""

    by_customer: dict[str, list[str]] = field(default_factory=dict)
    items_read: int = 0  # index items the query returned (what the run's read cost)

    @property
    def invoices(self) -> int:
        return sum(len(ids) for ids in self.by_customer.values())


def due_through(last_due: date) -> DueIndex:
    """Query (never Scan) the open-by-due index for everything due on or before ``last_due``."""
    due = DueIndex()
    items = list(open_invoices.index_items(through=f"{last_due.isoformat()}#~"))
    due.items_read = len(items)
    for customer_id, invoice_id in readable.each(items, _due_entry):
        due.by_customer.setdefault(customer_id, []).append(invoice_id)
    return due


def _due_entry(item: Item) -> tuple[str, str]:
    """(customer id, invoice id) of an open-by-due index item."""
    _, customer_id, _ = item["open_due_sk"].split("#", 2)
    return customer_id, item["pk"].removeprefix("INVOICE#")


# --- the invoices dunned ------------------------------------------------------------------------


def due_invoice(item: Item) -> DueInvoice | None:
    """An invoice item as collections see it, whatever its status: ours, or a legacy one dunned
    for what is still open. None for what is never dunned: a credit note, an invoice with no
    due date. Whether it is still open is the caller's to decide (the status, the amount due).
    """
    if invoices.is_legacy(item):
        still_open = Decimal(item["open_amount"])
        # What cash applied here settles: the amount open when imported (booked as its
        # opening balance); on an item from before that booking, what is open now.
        opened = Decimal(item.get("opening_amount", still_open))
        return DueInvoice(
            invoice_id=item["invoice_id"],
            number=item["invoice_number"],
            customer_id=item["customer_id"],
            currency=item["currency"],
            issued_on=date.fromisoformat(item["issue_date"]),
            due_on=date.fromisoformat(item["due_date"]),
            total=opened,
            amount_credited=Decimal(0),
            amount_due=still_open,
            status=item["status"],
            legacy=True,
        )
    invoice = invoices.from_item(item)
    if invoice.kind is not DocumentKind.INVOICE or invoice.due_on is None:
        return None
    return DueInvoice(
        invoice_id=invoice.invoice_id,
        number=invoice.number,
        customer_id=invoice.customer_id,
        currency=invoice.currency,
        issued_on=invoice.issued_on,
        due_on=invoice.due_on,
        total=invoice.total,
        amount_credited=invoice.amount_credited,
        amount_due=invoice.amount_due,
        status=invoice.status.value,
    )


# --- per-invoice state -------------------------------------------------------------------------


def state_item(state: InvoiceDunning, customer_id: str) -> Item:
    pk, sk = state_key(state.invoice_id)
    return {
        "pk": pk,
        "sk": sk,
        "entity": "DunningState",
        "invoice_id": state.invoice_id,
        "customer_id": customer_id,
        "last_level": state.last_level,
        "interest_charged": state.interest_charged,
        "promise": state.promise.to_wire() if state.promise else None,
        "broken_promise": state.broken_promise,
        "version": state.version,
    }


@readable.reader
def state_from_item(item: Item) -> InvoiceDunning:
    last_level = item.get("last_level")
    promise = item.get("promise")
    return InvoiceDunning(
        invoice_id=item["invoice_id"],
        last_level=int(last_level) if last_level is not None else None,
        interest_charged=item.get("interest_charged", 0),
        promise=Promise.from_wire(promise) if promise else None,
        broken_promise=bool(item.get("broken_promise", False)),
        version=int(item["version"]),
    )


def states(invoice_ids: Iterable[str]) -> dict[str, InvoiceDunning]:
    """Each invoice's state as last written (one BatchGetItem); none yet -> version 0."""
    wanted = list(dict.fromkeys(invoice_ids))
    return states_among(table.get_many(state_key(invoice_id) for invoice_id in wanted), wanted)


def states_among(items: Iterable[Item], invoice_ids: Iterable[str]) -> dict[str, InvoiceDunning]:
    """The states of ``invoice_ids`` found among ``items`` (read with others); none -> version 0."""
    wanted = list(dict.fromkeys(invoice_ids))
    items = [item for item in items if item.get("entity") == "DunningState"]
    found = dict(readable.each(items, lambda item: (item["invoice_id"], state_from_item(item))))
    return {
        invoice_id: found.get(invoice_id) or InvoiceDunning(invoice_id=invoice_id)
        for invoice_id in wanted
    }


def state_write(before: InvoiceDunning, after: InvoiceDunning, customer_id: str) -> Put:
    """``after``, refused if anyone wrote the state since ``before`` was read."""
    item = state_item(after, customer_id)
    if before.version == 0:
        return Put.new(item)
    return Put.replacing(item, before.version)


# --- level markers -----------------------------------------------------------------------------


def level_put(customer_id: str, line: ReminderLine, reminder_id: str, as_of: date) -> Put:
    """The marker of one (invoice, level): refused if that level happened before."""
    pk, sk = level_key(line.invoice_id, line.level)
    return Put.new(
        {
            "pk": pk,
            "sk": sk,
            "entity": "DunningLevel",
            "customer_id": customer_id,
            "invoice_id": line.invoice_id,
            "level": line.level,
            "level_name": line.level_name,
            "reminder_id": reminder_id,
            "as_of": as_of.isoformat(),
            "fee": line.fee,
            "interest": line.interest,
        }
    )


# --- promises ----------------------------------------------------------------------------------


def promise_put(promise: Promise) -> Put:
    recorded = clock.iso(promise.recorded_at)
    return Put.new(
        {
            "pk": dunning_pk(promise.invoice_id),
            "sk": f"PROMISE#{recorded}#{promise.promise_id}",
            "entity": "PromiseToPay",
            "gsi1pk": f"CUSTOMER#{promise.customer_id}",
            "gsi1sk": f"PROMISE#{recorded}#{promise.promise_id}",
            **promise.to_wire(),
        }
    )


def promises_for(customer_id: str, limit: int = 50) -> list[Item]:
    """The customer's promises to pay, newest first."""
    return table.customer_page(customer_id, "PROMISE", limit=limit).items


# --- reminders ---------------------------------------------------------------------------------


def reminder_put(
    plan: ReminderPlan, *, recipient: str, customer_name: str, statement_from: date | None
) -> Put:
    """The day's reminder of the customer, ``recorded`` (refused if there is one already)."""
    reminder_id = reminder_id_for(plan.customer_id, plan.as_of)
    pk, sk = reminder_key(reminder_id)
    wire = plan.to_wire()
    return Put.new(
        {
            "pk": pk,
            "sk": sk,
            "entity": "Reminder",
            "gsi1pk": f"CUSTOMER#{plan.customer_id}",
            "gsi1sk": f"REMINDER#{plan.as_of.isoformat()}#{reminder_id}",
            "reminder_id": reminder_id,
            "customer_id": plan.customer_id,
            "as_of": plan.as_of.isoformat(),
            "policy": plan.policy,
            "recipient": recipient,
            "customer_name": customer_name,
            "template": plan.template,
            "lines": wire["lines"],
            "totals": wire["totals"],
            "attach_statement": plan.attach_statement,
            "statement_from": statement_from.isoformat() if statement_from else None,
            "plan": plan.model_dump_json(),
            "status": RECORDED,
            "recorded_at": clock.iso(clock.now()),
        }
    )


def reminded_key(customer_id: str) -> tuple[str, str]:
    """The customer's last reminder, in its account's partition (read with the account)."""
    return f"CUSTOMER#{customer_id}", "REMINDED"


def reminded_put(customer_id: str, plan: ReminderPlan) -> Put:
    """The plan's reminder as the customer's last, refused over a later day's (a run for an
    earlier day records its reminder and leaves the last one as it is)."""
    pk, sk = reminded_key(customer_id)
    as_of = plan.as_of.isoformat()
    item = {"pk": pk, "sk": sk, "entity": "LastReminder", "as_of": as_of}
    return Put(
        item={**item, "reminder_id": reminder_id_for(customer_id, plan.as_of)},
        condition="attribute_not_exists(pk) OR as_of <= :as_of",
        values={":as_of": as_of},
    )


def reminded_on(item: Item | None) -> date | None:
    """The day of the last reminder recorded (None: none since reminders say so)."""
    return date.fromisoformat(item["as_of"]) if item else None


def get_reminder(reminder_id: str) -> Item | None:
    return table.get(*reminder_key(reminder_id))


@readable.reader
def reminder_plan(item: Item) -> ReminderPlan:
    """The plan a reminder item was recorded from (what its e-mail says)."""
    return ReminderPlan.model_validate_json(item["plan"])


def mark_reminder_sent(reminder_id: str, message_id: str) -> Update:
    """``recorded`` -> ``sent`` with SES's MessageId (refused if it was marked before)."""
    return Update(
        key=reminder_key(reminder_id),
        expression="SET #status = :sent, message_id = :message, sent_at = :at",
        condition="#status = :recorded",
        names={"#status": "status"},
        values={
            ":sent": SENT,
            ":recorded": RECORDED,
            ":message": message_id,
            ":at": clock.iso(clock.now()),
        },
    )


def reminders_for(customer_id: str, limit: int = 50) -> list[Item]:
    """The customer's reminders, newest first."""
    return table.customer_page(customer_id, "REMINDER", limit=limit).items


# --- a reminder recorded in parts --------------------------------------------------------------


def part_put(reminder_id: str, number: int, part: ReminderPlan) -> Put:
    """Part ``number`` of the reminder (refused if it exists: another attempt recorded it)."""
    pk, sk = part_key(reminder_id, number)
    item = {"pk": pk, "sk": sk, "entity": "ReminderPart", "reminder_id": reminder_id}
    return Put.new({**item, "plan": part.model_dump_json()})


def parts_of(reminder_id: str) -> list[ReminderPlan]:
    """The parts recorded for the reminder, in order (consistent Query of its partition)."""
    pk, _ = reminder_key(reminder_id)
    parts: list[ReminderPlan] = []
    cursor: str | None = None
    while True:
        page = table.query_page(
            pk,
            sk_from=PART_PREFIX,
            sk_to=f"{PART_PREFIX}~",
            limit=100,
            cursor=cursor,
            consistent=True,
        )
        parts += [reminder_plan(item) for item in page.items]
        if not (cursor := page.cursor):
            return parts


def reminding_key(customer_id: str) -> tuple[str, str]:
    return f"CUSTOMER#{customer_id}", REMINDING_SORT_KEY


def reminding(item: Item | None) -> frozenset[str]:
    """The reminders with parts recorded and the reminder not yet (the account's item)."""
    return frozenset(item.get("reminder_ids", ())) if item else frozenset()


def reminding_started(customer_id: str, reminder_id: str) -> Update:
    """The reminder has parts recorded (with the first of them)."""
    return Update(
        key=reminding_key(customer_id),
        expression="SET entity = :entity ADD reminder_ids :ids",
        values={":entity": "Reminding", ":ids": {reminder_id}},
    )


def reminding_done(customer_id: str, reminder_id: str) -> Update:
    """The reminder is recorded from its parts (with it)."""
    return Update(
        key=reminding_key(customer_id),
        expression="DELETE reminder_ids :ids",
        values={":ids": {reminder_id}},
    )
