"""The transactions that record a day's plan of one customer, each within DynamoDB's limit.

Each invoice the plan changes is recorded whole in one transaction: its state and, for a line,
its level marker, its fee and interest entries with the records they are settled by, its
``InvoiceDunned`` event (and its promise events), with the customer's exposure raised by what
that transaction charges. When the day has a reminder, every transaction also records its part
of the reminder (``shared.store.dunning``), numbered on from the parts read: an attempt that
planned without seeing another's parts adds a number that exists, and is refused. The last
transaction (the closing one) records the reminder joined from every part, the customer's
reminded marker, the credit hold and the claim of the e-mail; the ones before it mark the
reminder as recorded in parts, so that a retry after a crash between them reads the parts and
re-plans the rest (the invoices already advanced have no change left).

Everything fits in one transaction for most customers: then that one is the closing one.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from decimal import Decimal
from functools import cached_property
from typing import Any

from shared import clock
from shared.domain import charges, dunning, ledger
from shared.domain import customer as customer_domain
from shared.domain.customer import Customer, CustomerPatch, CustomerStatus
from shared.domain.dunning import InvoiceDunning, ReminderLine, ReminderPlan
from shared.domain.events import DomainEvent
from shared.store import charges as charge_store
from shared.store import credit, customers, outbox
from shared.store import dunning as store
from shared.store import ledger as ledger_store
from shared.store.table import TRANSACTION_LIMIT, Write

SOURCE = "otc.collections"
ACTOR = "collections"  # who the credit hold's amendment names


@dataclass
class Transaction:
    writes: list[Write] = field(default_factory=list)
    events: list[DomainEvent] = field(default_factory=list)

    def __add__(self, other: Transaction) -> Transaction:
        return Transaction([*self.writes, *other.writes], [*self.events, *other.events])

    def fits(self) -> bool:
        return outbox.items_written(self.writes, self.events) <= TRANSACTION_LIMIT


@dataclass(frozen=True)
class Change:
    """One invoice's writes and events, and the fee and interest they charge."""

    invoice_id: str
    recorded: Transaction
    charged: Decimal


@dataclass(frozen=True)
class Day:
    """What is recorded: the customer's plan, the states it was made from, the parts read."""

    customer: Customer
    planned: ReminderPlan
    states: dict[str, InvoiceDunning]
    parts: list[ReminderPlan]
    reminded_on: date | None

    @property
    def reminder_id(self) -> str:
        return store.reminder_id_for(self.customer.customer_id, self.planned.as_of)

    @cached_property
    def whole(self) -> ReminderPlan:
        """The reminder: every part read and the plan."""
        return dunning.joined([*self.parts, self.planned])


def closing(day: Day) -> Transaction:
    """The reminder (joined from every part), the reminded marker, the credit hold and their
    events; the caller adds the e-mail's claim. Empty when nothing reached a level."""
    customer, whole = day.customer, day.whole
    closed = Transaction()
    if whole.lines:
        closed.writes.append(
            store.reminder_put(
                whole,
                recipient=customer.notification_email,
                customer_name=customer.legal_name,
                statement_from=_statement_from(whole),
            )
        )
        if not day.reminded_on or day.reminded_on <= whole.as_of:
            closed.writes.append(store.reminded_put(customer.customer_id, whole))
        closed.events.append(_recorded_event(day.reminder_id, whole))
    if whole.credit_hold and customer.status is CustomerStatus.ACTIVE:
        patch = CustomerPatch.model_validate({"version": customer.version, "status": "credit_hold"})
        amendment = customer_domain.amend(customer, patch, ACTOR)
        closed.writes += customers.amending_writes(customer, amendment.customer)
        closed.events += [amendment.event] if amendment.event else []
    return closed


def transactions(
    day: Day, changes: dict[str, InvoiceDunning], closed: Transaction
) -> list[Transaction]:
    """The plan's ``changes`` in as few transactions as fit, in order, ``closed`` in the last."""
    recorded = _changes(day, changes)
    single = _transaction(day, recorded, 1, closed)
    if not day.parts and single.fits():
        return [single]
    if day.whole.lines:
        closed += Transaction([store.reminding_done(day.customer.customer_id, day.reminder_id)])
    packed: list[Transaction] = []
    chunk: list[Change] = []
    for change in recorded:
        number = len(day.parts) + len(packed) + 1
        if chunk and not _transaction(day, [*chunk, change], number).fits():
            packed.append(_transaction(day, chunk, number))
            chunk = []
        chunk.append(change)
    number = len(day.parts) + len(packed) + 1
    last = _transaction(day, chunk, number, closed)
    if last.fits():
        return [*packed, last]
    return [*packed, _transaction(day, chunk, number), _transaction(day, [], number + 1, closed)]


def _transaction(
    day: Day, recorded: Sequence[Change], number: int, closed: Transaction | None = None
) -> Transaction:
    """The changes, the exposure they raise and the reminder's part ``number``; then either
    ``closed`` or the mark that the reminder is recorded in parts."""
    customer_id = day.customer.customer_id
    done = Transaction()
    for change in recorded:
        done += change.recorded
    charged = sum((change.charged for change in recorded), Decimal(0))
    if charged > 0:  # fees and interest are receivables: the exposure carries them
        done.writes.append(credit.add_open_receivables(customer_id, charged))
    if day.whole.lines:
        invoice_ids = {change.invoice_id for change in recorded}
        part = dunning.part_of(day.planned, invoice_ids, day.states)
        done.writes.append(store.part_put(day.reminder_id, number, part))
        if closed is None:
            done.writes.append(store.reminding_started(customer_id, day.reminder_id))
    return done + closed if closed is not None else done


def _changes(day: Day, changes: dict[str, InvoiceDunning]) -> list[Change]:
    """Per invoice the plan changes: its state, its line's writes and its events."""
    planned, customer_id = day.planned, day.customer.customer_id
    lines = {line.invoice_id: line for line in planned.lines}
    posted_at = accrued_at(planned.as_of, clock.now())
    recorded: list[Change] = []
    for invoice_id, after in changes.items():
        done = Transaction([store.state_write(day.states[invoice_id], after, customer_id)])
        done.events += [
            _promise_event(planned, change)
            for change in planned.promises
            if change.invoice_id == invoice_id
        ]
        line = lines.get(invoice_id)
        if line is not None:
            done += _line(customer_id, line, day.reminder_id, planned.as_of, posted_at)
        charged = line.fee + line.interest if line else Decimal(0)
        recorded.append(Change(invoice_id, done, charged))
    return recorded


def _line(
    customer_id: str, line: ReminderLine, reminder_id: str, as_of: date, posted_at: datetime
) -> Transaction:
    """The line's level marker, fee and interest entries and ``InvoiceDunned``."""
    writes: list[Write] = [store.level_put(customer_id, line, reminder_id, as_of)]
    writes += _charges(customer_id, line, as_of, posted_at)
    dunned = {
        "customer_id": customer_id,
        "reminder_id": reminder_id,
        "as_of": as_of.isoformat(),
        **line.to_wire(),
    }
    return Transaction(writes, [event("InvoiceDunned", line.invoice_id, dunned)])


def accrued_at(as_of: date, now: datetime) -> datetime:
    """When a run's fees and interest are posted: the day they accrue (the run's), never later
    than now (a run for a past day dates them at that day's end, today's run at the moment)."""
    return min(now, datetime.combine(as_of, time.max, UTC))


def _charges(customer_id: str, line: ReminderLine, as_of: date, posted_at: datetime) -> list[Write]:
    """The line's fee (once per invoice and level) and interest (once per invoice and day),
    each with the record the customer settles it by (see shared/domain/charges.py), which is
    keyed by the entry id and refused if it exists: the entry's guard."""
    charged = [
        (ledger.for_fee, line.fee, f"{line.invoice_id}:level{line.level}"),
        (ledger.for_interest, line.interest, f"{line.invoice_id}:{as_of.isoformat()}"),
    ]
    entries = [
        build(customer_id, line.currency, amount, source_id, posted_at, invoice_id=line.invoice_id)
        for build, amount, source_id in charged
        if amount > 0
    ]
    return [
        write
        for entry in entries
        for write in [
            ledger_store.post_guarded_elsewhere(entry),
            charge_store.created(charges.from_entry(entry)),
        ]
    ]


def _recorded_event(reminder_id: str, whole: ReminderPlan) -> DomainEvent:
    recorded = {
        "reminder_id": reminder_id,
        "as_of": whole.as_of.isoformat(),
        "template": whole.template,
        "invoices": len(whole.lines),
        "totals": whole.to_wire()["totals"],
    }
    return event("ReminderRecorded", whole.customer_id, recorded)


def _statement_from(planned: ReminderPlan) -> date | None:
    """The statement attached to a final notice starts at the oldest due date it chases."""
    if not planned.attach_statement:
        return None
    return min(line.due_on for line in planned.lines)


def _promise_event(planned: ReminderPlan, change: dunning.PromiseChange) -> DomainEvent:
    kind = "PromiseKept" if change.status is dunning.PromiseStatus.KEPT else "PromiseBroken"
    data = {
        "customer_id": planned.customer_id,
        "promise_id": change.promise_id,
        "status": change.status.value,
        "as_of": planned.as_of.isoformat(),
    }
    return event(kind, change.invoice_id, data)


def event(detail_type: str, aggregate_id: str, data: dict[str, Any]) -> DomainEvent:
    return DomainEvent(detail_type=detail_type, source=SOURCE, aggregate_id=aggregate_id, data=data)
