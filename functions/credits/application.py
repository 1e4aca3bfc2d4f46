"""What applying a customer credit takes, whatever it settles: the request, the credit's
sources, the steps of the transaction (``apply_credit`` is the entry point).

A credit of either source settles part of an invoice (``invoice_id``) or of a fee or interest
charge (``charge_id``; exactly one of the two) of the same customer and currency, at most what the
credit has left and what the invoice or charge has due, in ONE transaction (a charge moves like
the invoice below, guarded by its version; see ``charge_application``):

- **payment**: the allocation path of cash application (``settlement.CashMove``): the payment
  and the invoice, each guarded by its version, the allocation's journal entry, the credit
  figures, ``PaymentApplied`` (and ``InvoicePaid`` when nothing is left due);
- **credit note**: the credit's next version (guarded by the version read), the invoice's next
  version, the ``credit_application`` entry (DR unapplied cash, CR receivables, on the invoice),
  the credit figures (receivables and unapplied cash both down), ``CreditApplied`` (and
  ``InvoicePaid``).

The application's id comes from the request (its Idempotency-Key): a retry whose first attempt
applied, then died before its answer was saved, finds the application and answers it again.
A concurrent write to the credit or the invoice means reading both again, once; then 409.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any

from pydantic import ConfigDict, StringConstraints

from functions.payments.settlement import CashMove, invoice_event, payment_event
from shared import clock, errors
from shared.domain import credits as credits_domain
from shared.domain import invoice as invoice_domain
from shared.domain import ledger as ledger_domain
from shared.domain.charges import Charge
from shared.domain.credits import CreditKind, CreditMove, CreditNoteCredit, CustomerCredit
from shared.domain.events import DomainEvent
from shared.domain.invoice import Invoice, InvoiceStatus
from shared.domain.ledger import JournalEntry
from shared.domain.money import DecimalString, Money
from shared.domain.omittable import Omittable
from shared.domain.payment import Allocation, Payment
from shared.model import Model
from shared.store import credit, customer_credits, invoices, outbox, payments
from shared.store import ledger as ledger_store
from shared.store.outbox import StaleStateError
from shared.store.table import Write

ATTEMPTS = 2  # the first read, and one more after a concurrent write

Identifier = Annotated[str, StringConstraints(min_length=1, max_length=120)]


class CreditSource(Model):
    """Which credit: a payment's unapplied part, or a credit note's credit."""

    model_config = ConfigDict(extra="forbid", strict=True)

    kind: CreditKind
    id: Identifier


class CreditApplicationRequest(Model):
    model_config = ConfigDict(extra="forbid", strict=True)

    source: CreditSource
    invoice_id: Omittable[Identifier] = None
    charge_id: Omittable[Identifier] = None  # a fee or interest charge instead of an invoice
    amount: DecimalString


@dataclass(frozen=True)
class Applied:
    """What one application did: the credit and the invoice (or the charge) after it."""

    application_id: str
    credit: CustomerCredit
    invoice: Invoice | Charge
    amount: Decimal

    def to_wire(self) -> dict[str, Any]:
        currency = self.invoice.currency
        applied = {
            "id": self.application_id,
            "amount": Money(amount=self.amount, currency=currency).to_wire(),
            "credit": self.credit.to_wire(),
        }
        if isinstance(self.invoice, Charge):
            return {**applied, "charge": self.invoice.to_wire()}
        return {
            **applied,
            "invoice": {
                "id": self.invoice.invoice_id,
                "number": self.invoice.number,
                "status": self.invoice.status.value,
                "amount_due": Money(amount=self.invoice.amount_due, currency=currency).to_wire(),
                "version": self.invoice.version,
            },
        }


def retried(attempt: Callable[[], Applied], item: str) -> Applied:
    """``attempt`` (it reads, then writes), once more after a concurrent write; then 409."""
    for number in range(ATTEMPTS):
        try:
            return attempt()
        except StaleStateError:
            if number == ATTEMPTS - 1:
                raise errors.Conflict(
                    "concurrent-modification",
                    f"the credit or the {item} changed meanwhile; read them again and retry",
                ) from None
    raise AssertionError("unreachable")


def apply_to_invoice(
    customer_id: str,
    kind: CreditKind,
    source_id: str,
    invoice: Invoice,
    amount: Decimal,
    *,
    by: str,
    application_id: str,
) -> Applied:
    """Apply ``amount`` of the credit to ``invoice`` as read; raises ``StaleStateError`` when
    the credit or the invoice changed since, problems when it does not fit."""
    if kind is CreditKind.PAYMENT:
        return _apply_payment(customer_id, source_id, invoice, amount, by, application_id)
    return _apply_credit_note(customer_id, source_id, invoice, amount, by, application_id)


def _apply_payment(  # noqa: PLR0917
    customer_id: str,
    payment_id: str,
    invoice: Invoice,
    amount: Decimal,
    by: str,
    application_id: str,
) -> Applied:
    payment = customer_payment(customer_id, payment_id)
    done = next((a for a in payment.allocations if a.allocation_id == application_id), None)
    if done is not None:  # a retry whose first attempt applied
        return Applied(
            application_id, credits_domain.of_payment(payment), _current(invoice), done.amount
        )
    require_usable(payment)
    _require_within(amount, credits_domain.available(payment), invoice, f"payment {payment_id}")
    move = CashMove(payment, clock.now())
    allocation = move.allocate(
        invoice,
        amount,
        Decimal(0),
        by=by,
        evidence=("customer credit",),
        confidence=Decimal(1),
        allocation_id=application_id,
    )
    applied = credits_domain.credit_event(
        "CreditApplied",
        credits_domain.of_payment(move.payment),
        move.at,
        application_id=application_id,
        invoice_id=invoice.invoice_id,
        invoice_number=invoice.number,
        amount=payment.money(amount),
    )
    after = move.invoices_after[invoice.invoice_id]
    events = (applied, *move.invoice_events(payment_id=payment_id))
    return commit_payment_application(move, allocation, after, amount, *events, by=by)


def _apply_credit_note(  # noqa: PLR0917
    customer_id: str,
    credit_note_id: str,
    invoice: Invoice,
    amount: Decimal,
    by: str,
    application_id: str,
) -> Applied:
    before = credit_note_credit(customer_id, credit_note_id)
    done = next((m for m in before.moves if m.move_id == application_id), None)
    if done is not None:  # a retry whose first attempt applied
        return Applied(
            application_id, credits_domain.of_credit_note(before), _current(invoice), done.amount
        )
    label = f"credit note {before.credit_note_number}'s credit"
    _require_within(amount, before.remaining, invoice, label)
    at = clock.now()
    after = with_application(before, application_id, amount, at, by, invoice.invoice_id)
    paid = invoice_domain.record_payment(invoice, amount)
    entry = ledger_domain.for_credit_application(
        customer_id,
        invoice.currency,
        invoice.invoice_id,
        amount,
        application_id,
        at,
        before.credit_note_number,
    )
    state = credit_note_writes(before, after, invoices.replacing(paid, invoice), entry, amount)
    view = credits_domain.of_credit_note(after)
    events = [
        credits_domain.credit_event(
            "CreditApplied",
            view,
            at,
            application_id=application_id,
            invoice_id=invoice.invoice_id,
            invoice_number=invoice.number,
            amount=Money(amount=amount, currency=invoice.currency).to_wire(),
        )
    ]
    if paid.status is InvoiceStatus.PAID:
        events.append(invoice_event("InvoicePaid", paid, at, credit_note_id=credit_note_id))
    commit_application(state, events)
    return Applied(application_id, view, paid, amount)


def credit_note_writes(
    before: CreditNoteCredit,
    after: CreditNoteCredit,
    target: Write,
    entry: JournalEntry,
    amount: Decimal,
) -> list[Write]:
    """The writes of ``amount`` of a credit note's credit moving onto a receivable: the credit's
    and the receivable's (``target``) next versions, the entry, and the customer's exposure."""
    return [
        customer_credits.replacing(after, before),
        target,
        *ledger_store.post(entry),
        credit.cash_moved(before.customer_id, settled=amount, released=amount),
    ]


def commit_payment_application(
    move: CashMove,
    allocation: Allocation,
    target: Invoice | Charge,
    amount: Decimal,
    *events: DomainEvent,
    by: str,
) -> Applied:
    """The move of ``amount`` of a payment's credit onto ``target`` (as it is after), with
    ``PaymentApplied`` saying a customer credit did it; what was applied."""
    applied = payment_event(
        "PaymentApplied",
        move.payment,
        move.at,
        allocated=[allocation.to_wire(move.payment.currency)],
        decision={"basis": "customer_credit", "allocated_by": by},
    )
    move.commit([applied, *events])
    view = credits_domain.of_payment(move.payment)
    return Applied(allocation.allocation_id, view, target, amount)


def customer_payment(customer_id: str, payment_id: str) -> Payment:
    """The customer's payment whose unapplied part is the credit, or 404."""
    payment = payments.get(payment_id)
    if payment is None or payment.customer_id != customer_id:
        raise errors.NotFound(f"credit {payment_id} of customer {customer_id}")
    return payment


def require_usable(payment: Payment) -> None:
    """409 when the payment's money is refunded or contested."""
    if not credits_domain.is_usable(payment):
        raise errors.Conflict(
            "credit-not-open",
            f"payment {payment.payment_id} is refunded or disputed: no credit to apply",
            current_version=payment.version,
        )


def credit_note_credit(customer_id: str, credit_note_id: str) -> CreditNoteCredit:
    """The credit a credit note left the customer, or 404."""
    found = customer_credits.get_credit_note_credit(customer_id, credit_note_id)
    if found is None:
        raise errors.NotFound(f"credit {credit_note_id} of customer {customer_id}")
    return found


def with_application(  # noqa: PLR0917 (the move's own fields)
    before: CreditNoteCredit, application_id: str, amount: Decimal, at: datetime, by: str, to: str
) -> CreditNoteCredit:
    """The credit after ``amount`` of it was applied to ``to`` (an invoice or a charge id)."""
    move = CreditMove(
        move_id=application_id, kind="application", amount=amount, at=at, by=by, invoice_id=to
    )
    return before.moved(move)


def commit_application(state: list[Write], events: list[DomainEvent]) -> None:
    """One transaction: the credit (first), the item it settles (second), and the rest; a stale
    credit or item raises ``StaleStateError``, credit figures that do not cover it 409."""
    try:
        outbox.commit(state, events)
    except StaleStateError as stale:
        if set(stale.failed) & {0, 1} or not stale.failed:
            raise
        raise errors.Conflict(
            "credit-figures-changed", "the customer's credit figures do not cover the application"
        ) from None


def _require_within(amount: Decimal, left: Decimal, invoice: Invoice, label: str) -> None:
    require_within(amount, left, invoice.amount_due, invoice.currency, invoice.number, label)


def require_within(  # noqa: PLR0917 (the figures, then how the problem names them)
    amount: Decimal, left: Decimal, due: Decimal, currency: str, item: str, label: str
) -> None:
    """422 over-application: beyond what the credit has left or the item (``item``) has due."""
    failures = []
    if amount > left:
        failures.append(
            {
                "pointer": "#/amount",
                "detail": f"{amount} {currency} exceeds the {left} {currency} left of {label}",
            }
        )
    if amount > due:
        failures.append(
            {
                "pointer": "#/amount",
                "detail": f"{amount} {currency} exceeds the {due} {currency} due on {item}",
            }
        )
    if failures:
        raise errors.Unprocessable("over-application", failures[0]["detail"], errors=failures)


def _current(invoice: Invoice) -> Invoice:
    return invoices.get(invoice.invoice_id) or invoice


def earlier_application(
    customer_id: str, source: CreditSource, application_id: str
) -> tuple[CustomerCredit, Decimal] | None:
    """The credit and the amount of an application made before under ``application_id``."""
    if source.kind is CreditKind.PAYMENT:
        payment = payments.get(source.id)
        if payment is None or payment.customer_id != customer_id:
            return None
        view = credits_domain.of_payment(payment)
        amount = next(
            (a.amount for a in payment.allocations if a.allocation_id == application_id), None
        )
    elif found := customer_credits.get_credit_note_credit(customer_id, source.id):
        view = credits_domain.of_credit_note(found)
        amount = next((m.amount for m in found.moves if m.move_id == application_id), None)
    else:
        return None
    return None if amount is None else (view, amount)
