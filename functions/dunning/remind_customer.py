"""The per-customer collection worker: record the day's reminder once, then e-mail it once.

The run (``run.py``) sends one message per customer with the open invoices due; this worker

1. reads the customer's partition in one consistent Query: the account, its portal access, its
   dispute holds and its credit figures, whose unapplied cash is the credit the customer holds;
   then in one BatchGetItem those invoices (each with the money applied to it, and when, as
   cash application keeps it on the invoice), their dunning states and chain heads; only when
   the customer holds credit, its open fees and interest (one Query of its ledger partition),
   and only for an invoice written before its item kept the money applied, the customer's
   payments. Then it plans the day's reminder (``shared.domain.dunning.plan``);
2. records what the plan changes (``reminder_recording.py``): a marker per (invoice, level)
   that is refused if that level happened before, each invoice's state at the version read, the
   fee and interest journal entries (each entry id posted once, dated the day they accrue: the
   run's day, never later than now) with the customer's exposure raised by them, the reminder
   item ``recorded`` (one per customer per day), the audit events, the credit hold when a level
   reached or passed calls for it, and the claim of the reminder's e-mail (the claim protocol of
   the other customer e-mails, ``shared.store.notifications``). It is one transaction when it
   fits DynamoDB's 100 writes; otherwise each invoice's writes go whole into one of several
   transactions, each with its part of the reminder (numbered on from the parts read), and the
   last records the reminder joined from every part with the claim, the credit hold and the
   customer's reminded marker. A crash between them leaves the customer marked as reminded in
   parts: the retry reads the parts, finds the invoices already advanced with nothing left to
   change and records the rest, so the reminder lists every invoice once and every fee and
   interest is posted once. A lost race (another run, a payment, a clerk editing the account,
   another attempt adding a part) fails a guard: the worker reads and plans again, and finds
   the levels recorded. The e-mail's sender and portal link (docs/portal.md) are made before:
   a failure there fails the message with nothing recorded or claimed;
3. sends the e-mail it claimed, then marks the claim and the reminder ``sent`` with SES's
   MessageId (with ``ReminderSent``) in one transaction chained after the heads the recording
   left; a failed send releases the claim (the message fails, SQS retries it). A delivery that
   finds the reminder recorded and not sent claims the e-mail itself (its lease has passed if a
   crashed attempt held it: the retry comes after the queue's visibility timeout) and does the
   same.

So a message delivered twice, a run repeated the same day, two runs overlapping, or a crash
between any two transactions or before the e-mail all end with each level recorded once, one
complete reminder and one e-mail.
Once the day's reminder is recorded nothing more is recorded for the customer that day: an
invoice that reaches a level later that day gets it on the next run.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo

from functions.dunning import reminder_email
from functions.dunning import reminder_recording as recording
from shared.adapters import mail
from shared.config import settings
from shared.domain import audit, dunning
from shared.domain import invoice as invoice_domain
from shared.domain.charges import Charge
from shared.domain.customer import Customer, CustomerStatus
from shared.domain.dunning import (
    AllocationSpan,
    DueInvoice,
    InvoiceDunning,
    ReminderPlan,
)
from shared.model import Model
from shared.observability import logger, metrics
from shared.store import charges as charge_store
from shared.store import credit, customers, invoices, outbox, payments, readable, table
from shared.store import dunning as store
from shared.store import notifications as markers
from shared.store.outbox import StaleStateError
from shared.store.table import Item, Put, Write

MAX_ATTEMPTS = 5  # plans per message before the message fails (and SQS retries it)
PAYMENTS_PAGE = 100


class ReminderMessage(Model):
    """One customer of a collection run: the open invoices due, as the run's query found them."""

    customer_id: str
    as_of: date
    invoice_ids: list[str]
    run_id: str = ""


class Outcome(StrEnum):
    SENT = "sent"  # the day's reminder went out now
    ALREADY_SENT = "already_sent"  # it went out before (or another attempt is sending it)
    NOTHING_TO_SEND = "nothing_to_send"  # nothing reached a level today
    UNKNOWN_CUSTOMER = "unknown_customer"


class LostRacesError(RuntimeError):
    """Every attempt lost a guard to a concurrent writer; the message is retried."""


@dataclass(frozen=True)
class Situation:
    """What the planner is given, as read."""

    customer: Customer
    invoices: dict[str, DueInvoice]
    states: dict[str, InvoiceDunning]
    links_valid_after: int = 0  # the customer's portal links revoked before it (Unix seconds)
    reminded_on: date | None = None  # the day of its last reminder
    reminding: frozenset[str] = frozenset()  # its reminders with parts recorded, not yet joined
    heads: dict[str, audit.ChainHead] = field(default_factory=dict)  # as read, per aggregate
    credit: dict[str, Decimal] = field(default_factory=dict)  # held for the customer, per currency
    charges: list[Charge] = field(default_factory=list)  # its open fees and interest

    def plan(self, as_of: date) -> ReminderPlan:
        policy = dunning.policy_named(self.customer.dunning_policy)
        due = list(self.invoices.values())
        return dunning.plan(
            self.customer.customer_id,
            policy,
            due,
            self.states,
            as_of,
            credit=self.credit,
            charges=self.charges,
        )


def collection_day(moment: datetime) -> date:
    """The calendar day of ``moment`` where collections run (``collection_time_zone``)."""
    return moment.astimezone(ZoneInfo(settings().collection_time_zone)).date()


# --- entry points ------------------------------------------------------------------------------


def remind_from_message(body: str) -> Outcome:
    message = ReminderMessage.model_validate_json(body)
    return remind_customer(message.customer_id, message.as_of, message.invoice_ids)


@dataclass(frozen=True)
class Recorded:
    """What ``record`` leaves for sending: the day's reminder as it stands (None: nothing to
    send today) and, when it recorded it now, its e-mail: claimed in the same transaction, its
    sender and portal link made before, and the chain heads that transaction left."""

    reminder: Item | None
    email: ClaimedEmail | None = None


@dataclass(frozen=True)
class ClaimedEmail:
    claim: markers.Claim
    sender: str
    portal_url: str | None
    heads: dict[str, audit.ChainHead]
    customer: Customer | None = None  # the account as read to record it (its statement's)


def remind_customer(customer_id: str, as_of: date, invoice_ids: list[str]) -> Outcome:
    context = {"customer_id": customer_id, "as_of": as_of.isoformat()}
    recorded = record(customer_id, as_of, invoice_ids)
    if recorded is None:
        logger.warning("unknown customer; nothing to remind", extra=context)
        return Outcome.UNKNOWN_CUSTOMER
    outcome = send_reminder(store.reminder_id_for(customer_id, as_of), recorded=recorded)
    logger.info("customer reminded", extra={**context, "outcome": outcome.value})
    return outcome


def preview(customer_id: str, as_of: date, invoice_ids: list[str]) -> dict[str, Any] | None:
    """What the worker would record and send today, without writing or sending anything."""
    situation = read_situation(customer_id, invoice_ids)
    if situation is None:
        return None
    reminder_id = store.reminder_id_for(customer_id, as_of)
    # a day recorded in parts, its last transaction not yet committed: the whole reminder
    parts = store.parts_of(reminder_id) if reminder_id in situation.reminding else []
    planned = dunning.joined([*parts, situation.plan(as_of)])
    customer = situation.customer
    email = reminder_email.render(planned, customer.legal_name) if planned.lines else None
    return {
        **planned.to_wire(),
        "reminder_id": reminder_id if email else None,
        "recipient": customer.notification_email if email else None,
        "subject": email.subject if email else None,
        "puts_on_credit_hold": planned.credit_hold and customer.status is CustomerStatus.ACTIVE,
    }


# --- 1. read and plan --------------------------------------------------------------------------


def read_situation(customer_id: str, invoice_ids: list[str]) -> Situation | None:
    account = customers.get_account(customer_id)
    if account is None:
        return None
    customer = account.customer
    # The invoices, their dunning states and the chain heads the recording moves: one read.
    aggregates = [*invoice_ids, customer_id]
    items = table.get_many(
        [
            *(invoices.invoice_key(invoice_id) for invoice_id in invoice_ids),
            *(store.state_key(invoice_id) for invoice_id in invoice_ids),
            *(outbox.head_key(aggregate_id) for aggregate_id in aggregates),
        ]
    )
    invoice_items = [item for item in items if item["pk"].startswith("INVOICE#")]
    due = {
        invoice.invoice_id: invoice
        for invoice in readable.each(invoice_items, store.due_invoice)
        if invoice is not None and invoice.customer_id == customer_id
    }
    applied = dict(readable.each(invoice_items, _cash_applied))
    due = _with_allocations(customer_id, due, applied)
    due = _with_disputes(due, account.items.values())
    held = _credit_held(account) if due else {}
    # Only credit is set against charges: without it they change nothing the plan decides.
    owed = charge_store.open_for(customer_id) if held else []
    return Situation(
        customer=customer,
        invoices=due,
        states=store.states_among(items, due),
        credit=held,
        charges=owed,
        links_valid_after=account.links_valid_after,
        reminded_on=store.reminded_on(account.items.get(store.reminded_key(customer_id)[1])),
        reminding=store.reminding(account.items.get(store.REMINDING_SORT_KEY)),
        heads={aggregate_id: audit.ChainHead() for aggregate_id in aggregates}
        | outbox.heads_among(items),
    )


def _with_disputes(
    due: dict[str, DueInvoice], account_items: Iterable[Item]
) -> dict[str, DueInvoice]:
    """Each invoice with what its open dispute cases hold (dunning leaves that amount alone):
    the holds are items of the customer's partition, read with the account."""
    from shared.store import cases

    held = cases.held_among(account_items)
    return {
        invoice_id: invoice.model_copy(update={"disputed": held[invoice_id]})
        if invoice_id in held
        else invoice
        for invoice_id, invoice in due.items()
    }


def _credit_held(account: customers.Account) -> dict[str, Decimal]:
    """What the seller holds for the customer (unapplied cash, credit notes' credit beyond what
    their invoices had open): the unapplied cash of its credit figures, read with the account.
    Every write that moves the ledger's unapplied cash moves that figure by as much in the same
    transaction, in the customer's one currency."""
    item = account.items.get(credit.SORT_KEY)
    if item is None:
        return {}
    exposure = credit.from_item(item)
    return {exposure.currency: exposure.unapplied_cash} if exposure.unapplied_cash > 0 else {}


def _cash_applied(item: Item) -> tuple[str, tuple[invoice_domain.CashApplied, ...] | None]:
    return item["invoice_id"], invoices.cash_applied(item)


def _with_allocations(
    customer_id: str,
    due: dict[str, DueInvoice],
    applied: dict[str, tuple[invoice_domain.CashApplied, ...] | None],
) -> dict[str, DueInvoice]:
    """Each invoice with the money applied to it, and when (interest runs on the rest).

    Cash application keeps every allocation's cash on the invoice item (read with it). An item
    written before it did (None) has it only in the payments: then the customer's payments are
    read newest first back to the oldest invoice's issue date, and further back only while some
    invoice's applications do not add up to what it says was settled (cash received earlier and
    applied later).
    """
    if not due:
        return due
    spans: dict[str, list[AllocationSpan]] = {invoice_id: [] for invoice_id in due}
    if all(applied.get(invoice_id) is not None for invoice_id in due):
        for invoice_id in due:
            cash_applied = applied[invoice_id] or ()
            spans[invoice_id] = [span for cash in cash_applied for span in _spans(cash)]
    else:
        oldest = min(invoice.issued_on for invoice in due.values())
        for payment in _payments_newest_first(customer_id):
            if payment.received_at.date() < oldest and _all_accounted(due, spans):
                break
            for allocation in payment.allocations:
                if allocation.invoice_id in spans:
                    spans[allocation.invoice_id] += _spans(invoice_domain.cash_of(allocation))
    return {
        invoice_id: invoice.model_copy(update={"allocations": tuple(spans[invoice_id])})
        for invoice_id, invoice in due.items()
    }


def _payments_newest_first(customer_id: str) -> Iterator[Any]:
    cursor: str | None = None
    while True:
        page = payments.list_for_customer(customer_id, limit=PAYMENTS_PAGE, cursor=cursor)
        yield from readable.each(page.items, payments.from_item)
        if not (cursor := page.cursor):
            return


def _spans(cash: invoice_domain.CashApplied) -> list[AllocationSpan]:
    """What the allocation settled and until when: the part still applied (until reversed),
    and each part taken back since (until it was)."""
    applied_on = collection_day(cash.applied_at)
    reversed_at = cash.reversed_at
    kept = AllocationSpan(
        applied_on=applied_on,
        amount=cash.amount,
        reversed_on=collection_day(reversed_at) if reversed_at else None,
    )
    return [
        kept,
        *(
            AllocationSpan(
                applied_on=applied_on, amount=part.amount, reversed_on=collection_day(part.at)
            )
            for part in cash.taken_back
        ),
    ]


def _all_accounted(due: dict[str, DueInvoice], spans: dict[str, list[AllocationSpan]]) -> bool:
    for invoice_id, invoice in due.items():
        settled = invoice.total - invoice.amount_credited - invoice.amount_due
        found = sum((span.amount for span in spans[invoice_id] if span.reversed_on is None), 0)
        if found != settled:
            return False
    return True


# --- 2. record ---------------------------------------------------------------------------------


def record(customer_id: str, as_of: date, invoice_ids: list[str]) -> Recorded | None:
    """Record what the day's plan changes, once; ``None`` when the customer does not exist."""
    reminder_id = store.reminder_id_for(customer_id, as_of)
    for attempt in range(MAX_ATTEMPTS):
        situation = read_situation(customer_id, invoice_ids)
        if situation is None:
            return None
        # The day's reminder recorded: nothing more today. After a lost race it is looked up
        # whatever the account says.
        looked_up = situation.reminded_on == as_of or attempt > 0
        if looked_up and (reminder := store.get_reminder(reminder_id)) is not None:
            return Recorded(reminder)
        planned = situation.plan(as_of)
        changes = planned.states_after(situation.states)
        parts = store.parts_of(reminder_id) if reminder_id in situation.reminding else []
        if not changes and not parts:
            return Recorded(None)
        day = recording.Day(
            situation.customer, planned, situation.states, parts, situation.reminded_on
        )
        closed = recording.closing(day)
        reminder = _reminder_written(closed.writes, reminder_id)
        email = _claiming(situation, reminder, closed.writes) if reminder else None
        try:
            heads = _commit(recording.transactions(day, changes, closed), situation.heads)
        except StaleStateError:
            logger.info("lost a race; planning again", extra={"reminder_id": reminder_id})
            continue
        # RemindersRecorded is counted from the committed ReminderRecorded event
        return Recorded(reminder, replace(email, heads=heads) if email else None)
    raise LostRacesError(f"{reminder_id}: lost {MAX_ATTEMPTS} races in a row")


def _commit(
    transactions: list[recording.Transaction], heads: dict[str, audit.ChainHead]
) -> dict[str, audit.ChainHead]:
    """Each transaction in turn, chained after the heads the one before left; the heads after."""
    for transaction in transactions:
        heads = heads | outbox.commit(transaction.writes, transaction.events, heads=heads)
    return heads


def _reminder_written(writes: list[Write], reminder_id: str) -> Item | None:
    """The reminder item among a committed transaction's writes (None: it records none)."""
    key = store.reminder_key(reminder_id)
    for write in writes:
        if isinstance(write, Put) and (write.item["pk"], write.item["sk"]) == key:
            return write.item
    return None


def _claiming(situation: Situation, reminder: Item, writes: list[Write]) -> ClaimedEmail:
    """The e-mail of a reminder about to be recorded: its sender and portal link made first (a
    failure fails the message with nothing recorded), its claim added to ``writes``."""
    sender = mail.configured_sender()
    portal_url = _portal_link(reminder, situation.links_valid_after)
    claim_write, claim = markers.claiming(
        reminder["reminder_id"], reminder["recipient"], detail_type="ReminderRecorded"
    )
    writes.append(claim_write)
    return ClaimedEmail(
        claim=claim,
        sender=sender,
        portal_url=portal_url,
        heads={},
        customer=situation.customer,
    )


# --- 3. send -----------------------------------------------------------------------------------


def send_reminder(reminder_id: str, recorded: Recorded | None = None) -> Outcome:
    """E-mail the recorded reminder once (claim, send, mark sent); release the claim on failure.

    ``recorded``: what ``record`` just read or wrote (the reminder, the customer's revocation
    moment), so neither is read again; without it both are read here."""
    recorded = recorded or Recorded(store.get_reminder(reminder_id))
    reminder = recorded.reminder
    if reminder is None:
        return Outcome.NOTHING_TO_SEND
    if recorded.email is not None:  # claimed with the reminder: send it
        email = recorded.email
        markers.send_claimed(
            email.claim,
            reminder_id,
            detail_type="ReminderRecorded",
            send=lambda: _send(email.sender, reminder, email.portal_url, email.customer),
            mark=lambda held, message_id: _mark_sent(reminder, message_id, held, email.heads),
        )
    elif reminder["status"] == store.SENT:
        return Outcome.ALREADY_SENT
    else:
        sender = mail.configured_sender()
        portal_url = _portal_link(reminder, None)
        message_id = markers.send_once(
            reminder_id,
            reminder["recipient"],
            detail_type="ReminderRecorded",
            send=lambda: _send(sender, reminder, portal_url),
            mark=lambda held, message_id: _mark_sent(reminder, message_id, held),
        )
        if message_id is None:
            _finish_sent_elsewhere(reminder)
            return Outcome.ALREADY_SENT
    metrics.add_metric(name="RemindersEmailed", unit="Count", value=1)
    return Outcome.SENT


def _portal_link(reminder: Item, links_valid_after: int | None) -> str | None:
    """A portal link for the recipient, signed now, when the portal is configured here. Made
    before the e-mail is claimed: a failed read fails the message (SQS retries it) with nothing
    claimed, so no reminder goes out without its link or stays claimed and unsent."""
    from functions.portal.links import email_link

    return email_link(
        reminder["customer_id"], reminder["recipient"], links_valid_after=links_valid_after
    )


def _send(
    sender: str, reminder: Item, portal_url: str | None, customer: Customer | None = None
) -> str:
    planned = store.reminder_plan(reminder)
    email = reminder_email.render(planned, reminder.get("customer_name", ""), portal_url=portal_url)
    message = {
        "sender": sender,
        "recipient": reminder["recipient"],
        "subject": email.subject,
        "text": email.text,
        "html": email.html,
    }
    if not reminder.get("attach_statement"):
        return mail.send(**message)
    return mail.send_raw(**message, attachments=[_statement_pdf(reminder, customer)])


def _statement_pdf(reminder: Item, customer: Customer | None = None) -> mail.Attachment:
    from functions.dunning.statement import file_name, statement_for
    from functions.dunning.statement_pdf import render_pdf

    as_of = date.fromisoformat(reminder["as_of"])
    start = date.fromisoformat(reminder.get("statement_from") or reminder["as_of"])
    statement = statement_for(reminder["customer_id"], min(start, as_of), as_of, customer=customer)
    return mail.Attachment(
        filename=file_name(statement), content=render_pdf(statement), content_type="application/pdf"
    )


def _finish_sent_elsewhere(reminder: Item) -> None:
    """The claim is held or used: if the e-mail went out, mark the reminder sent now."""
    marker = table.get(*markers.marker_key(reminder["reminder_id"], reminder["recipient"]))
    if marker and marker.get("message_id"):
        _mark_sent(reminder, marker["message_id"])


def _mark_sent(
    reminder: Item,
    message_id: str,
    held: markers.Claim | None = None,
    heads: dict[str, audit.ChainHead] | None = None,
) -> bool:
    """The reminder ``sent`` (with ``ReminderSent``) and, in the same transaction, the e-mail's
    marker when this attempt ``held`` its claim; ``False`` when the claim was taken over."""
    event = recording.event(
        "ReminderSent",
        reminder["customer_id"],
        {"reminder_id": reminder["reminder_id"], "message_id": message_id},
    )
    marked = store.mark_reminder_sent(reminder["reminder_id"], message_id)
    writes: list[Write] = (
        [marked] if held is None else [markers.sent_update(held, message_id), marked]
    )
    try:
        outbox.commit(writes, [event], heads=heads)
    except StaleStateError as stale:
        if held is not None and 0 in stale.failed:
            return False  # taken over: the attempt that holds the claim marks both
        logger.info("reminder marked sent before", extra={"reminder": reminder["reminder_id"]})
        return held is None or markers.mark_sent(held, message_id)
    return True
