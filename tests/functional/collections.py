"""Steps the collections tests share: move the clock, run the day's collection, read what it did."""

from __future__ import annotations

import email
import json
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from chalice.test import Client
from moto.core import DEFAULT_ACCOUNT_ID
from moto.ses.models import RawMessage, ses_backends

import app as app_module
from functions.dunning.reminder_email import TEMPLATES
from functions.dunning.run import start_run
from infra.local.pump import LambdaContext
from shared import clock
from shared.domain.invoice import Invoice
from shared.store import ledger as ledger_store
from shared.store import outbox
from tests.functional.accounts import call
from tests.functional.cash import CUSTOMER, received
from tests.functional.conftest import World
from tests.functional.order_events import sqs_batch

QUEUE = "CollectionRemindersQueue"
SUBJECTS = {template.subject: name for name, template in TEMPLATES.items()}
ANNUAL_PERCENT = Decimal(8)  # the default policy's


@dataclass(frozen=True)
class Reminder:
    """A reminder e-mail as SES accepted it."""

    recipient: str
    template: str
    body: str  # the HTML part
    attachments: dict[str, tuple[str, bytes]]


def on(day: date) -> None:
    """Move the clock to 06:00 UTC of ``day`` (when the scheduled run fires)."""
    moment = datetime.combine(day, time(6), UTC)
    clock.set_clock(lambda: moment)


def run_on(world: World, day: date) -> dict[str, Any]:
    """The day's run, and every worker it sets off (the pump drains the queues)."""
    on(day)
    answer = start_run(day)
    world.pump.drain()
    return answer


def reminders() -> list[Reminder]:
    """Every reminder e-mail sent so far, oldest first (other customer e-mails left out)."""
    found = []
    for message in ses_backends[DEFAULT_ACCOUNT_ID]["us-east-1"].sent_messages:
        if isinstance(message, RawMessage):
            found.append(_raw(message))
        elif message.subject in SUBJECTS:
            [recipient] = message.destinations["ToAddresses"]
            found.append(Reminder(recipient, SUBJECTS[message.subject], message.body, {}))
    return [reminder for reminder in found if reminder.template]


def _raw(message: RawMessage) -> Reminder:
    parsed = email.message_from_string(message.raw_data)
    body, attachments = "", {}
    for part in parsed.walk():
        payload = part.get_payload(decode=True)
        if part.get_filename() and isinstance(payload, bytes):
            attachments[part.get_filename() or ""] = (part.get_content_type(), payload)
        elif part.get_content_type() == "text/html" and isinstance(payload, bytes):
            body = payload.decode()
    template = SUBJECTS.get(str(parsed["Subject"]), "")
    return Reminder(str(parsed["To"]), template, body, attachments)


def charges(customer_id: str = CUSTOMER) -> list[tuple[str, str, Decimal]]:
    """The fee and interest entries of the customer's ledger: (kind, source id, amount)."""
    return [
        (entry.kind, entry.source_id, sum((p.debit for p in entry.postings), Decimal(0)))
        for entry in ledger_store.entries_for(customer_id)
        if entry.kind in ("fee", "interest")
    ]


def interest(*spans: tuple[Decimal, int]) -> Decimal:
    """Simple interest at 8 % p.a., actual/365, on (principal, days) spans, rounded once."""
    principal_days = sum((principal * days for principal, days in spans), Decimal(0))
    exact = principal_days * ANNUAL_PERCENT / Decimal(36500)
    return exact.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def fan_out(world: World) -> list[str]:
    """Take the run's messages off the reminder queue (bodies), as the queue would deliver them."""
    sqs = world.session.client("sqs")
    bodies: list[str] = []
    while True:
        answer = sqs.receive_message(QueueUrl=world.queues[QUEUE], MaxNumberOfMessages=10)
        messages = answer.get("Messages", [])
        if not messages:
            return bodies
        for message in messages:
            bodies.append(message["Body"])
            sqs.delete_message(QueueUrl=world.queues[QUEUE], ReceiptHandle=message["ReceiptHandle"])


def deliver(bodies: list[str]) -> dict[str, Any]:
    """Hand bodies to the reminder worker as Lambda would: every record its own message id.

    Answers Lambda's partial batch response.
    """
    event = sqs_batch(bodies, queue="otc-local-collection-reminders")
    answer: dict[str, Any] = app_module.remind_customers(event, LambdaContext("remind_customers"))
    return answer


def pay(client: Client, invoice: Invoice, amount: str) -> None:
    """The customer pays ``amount`` and a clerk applies it to the invoice (now, by the clock)."""
    payment = received(amount, customer_id=CUSTOMER)
    body = {"allocations": [{"invoice_id": invoice.invoice_id, "amount": amount}]}
    answer = call(client, "POST", f"/payments/{payment.payment_id}/allocations", body=body)
    assert answer.status == 201, answer.body


def promise(client: Client, invoice: Invoice, promised_on: date, amount: str) -> dict[str, Any]:
    body = {"promised_on": promised_on.isoformat(), "amount": amount}
    answer = call(client, "POST", f"/invoices/{invoice.invoice_id}/promises", body=body)
    assert answer.status == 201, answer.body
    recorded: dict[str, Any] = answer.body
    return recorded


def history(aggregate_id: str) -> list[tuple[str, dict[str, Any]]]:
    """The aggregate's audit trail of collection events: (detail type, data), oldest first."""
    return [
        (item["detail_type"], json.loads(item["detail"])["data"])
        for item in outbox.history(aggregate_id)
        if item["source"] == "otc.collections"
    ]


def day(due_on: date, offset: int) -> date:
    return due_on + timedelta(days=offset)
