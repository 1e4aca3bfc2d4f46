"""Money that goes back: refunds beyond the unapplied part, and the dispute consumers.

Money going back moves exactly its amount (``cover``): the unapplied part of the payment pays
first, then the newest allocations give back cash until it is covered - the last one only the
part still needed (it stays applied for the rest) - and their invoices reopen by exactly what
was taken off them. Chargebacks use it too (``chargebacks``).

- **Refunds** (``refund_to_total``): the gateway's cumulative refunded total; only its increase
  over what is refunded already moves. ONE transaction with ``PaymentRefunded`` (naming the
  allocations taken back and the cash taken off each) and ``InvoiceReopened`` per invoice.
- **Disputes.** On ``PaymentDisputed`` every invoice the payment is applied to becomes
  ``disputed`` (``InvoiceDisputed``); on ``PaymentDisputeClosed`` they get back the status their
  amounts say (``InvoiceDisputeClosed``) once no dispute of the payment is open. The chargeback
  marks them in its own transaction already; these consumers only catch what it did not.

Each runs against the payment and invoices as read, guarded by their versions; a concurrent
write means reading again (``ATTEMPTS`` rounds, then the message is retried by SQS).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from decimal import Decimal
from typing import Any

from functions.payments.settlement import CONSUMER, CashMove, invoice_event, payment_event
from shared import clock
from shared.domain.events import DomainEvent
from shared.domain.payment import Allocation, Payment
from shared.observability import logger
from shared.store import outbox, payments
from shared.store.outbox import AlreadyConsumedError, StaleStateError

ATTEMPTS = 5


class PaymentNotFoundError(LookupError):
    """The event names a payment that is not stored."""


def refund_to_total(
    payment_id: str,
    refunded_total: Decimal,
    *,
    at: datetime,
    consumed: tuple[str, str] | None = None,
) -> Payment | None:
    """Refund up to ``refunded_total`` (the gateway's cumulative figure), taking the newest
    allocations back as needed. None when the event was consumed before."""

    def build(payment: Payment) -> tuple[CashMove, list[DomainEvent]] | None:
        amount = refunded_total - payment.refunded
        if amount <= 0:
            return None
        move = CashMove(payment, at)
        taken = cover(move, amount, f"refund:{refunded_total}")
        move.refund(amount, f"{payment.payment_id}:{refunded_total}")
        return move, [_refunded(move, amount, taken), *reopened_events(move)]

    return run(payment_id, consumed, build)


def dispute_opened(payment_id: str, event_id: str) -> Payment | None:
    """``PaymentDisputed``: the invoices the payment is applied to are disputed."""

    def build(payment: Payment) -> tuple[CashMove, list[DomainEvent]] | None:
        if not payment.disputed:
            return None  # closed again before this event arrived
        move = CashMove(payment, clock.now())
        touched = move.mark_invoices_disputed(open=True)
        if not touched:
            return None
        return move, [
            invoice_event("InvoiceDisputed", invoice, move.at, payment_id=payment_id)
            for invoice in touched
        ]

    return run(payment_id, (CONSUMER, event_id), build)


def dispute_closed(payment_id: str, event_id: str, *, outcome: str) -> Payment | None:
    """``PaymentDisputeClosed``: the invoices the payment pays are no longer disputed (once
    no other dispute of the payment is open)."""
    del outcome  # the money moved with the gateway's event (``chargebacks.closed``)

    def build(payment: Payment) -> tuple[CashMove, list[DomainEvent]] | None:
        move = CashMove(payment, clock.now())
        if payment.disputed:
            return None  # another dispute of the payment is still open
        touched = move.mark_invoices_disputed(open=False)
        if not touched:
            return None
        return move, [
            invoice_event("InvoiceDisputeClosed", invoice, move.at, payment_id=payment_id)
            for invoice in touched
        ]

    return run(payment_id, (CONSUMER, event_id), build)


# --- helpers (chargebacks use them too) ------------------------------------------------------


def run(
    payment_id: str,
    consumed: tuple[str, str] | None,
    build: Callable[[Payment], tuple[CashMove, list[DomainEvent]] | None],
) -> Payment | None:
    """Read, build and commit, again while the payment or an invoice changes under us."""
    for attempt in range(ATTEMPTS):
        payment = payments.get(payment_id)
        if payment is None:
            raise PaymentNotFoundError(f"payment {payment_id} is not stored")
        try:
            built = build(payment)
            if built is None:
                if consumed:
                    outbox.commit([], [], consumed=consumed)
                return payment
            move, events = built
            move.commit(events, consumed=consumed)
            return move.payment
        except AlreadyConsumedError:
            logger.info("payment event already applied", extra={"payment_id": payment_id})
            return None
        except StaleStateError:
            logger.info("payment or invoice changed meanwhile", extra={"attempt": attempt})
    raise StaleStateError([0])


def _newest_first(payment: Payment) -> list[Allocation]:
    return sorted(
        payment.active_allocations,
        key=lambda allocation: (allocation.applied_at, allocation.allocation_id),
        reverse=True,
    )


def cover(move: CashMove, amount: Decimal, reference: str) -> list[tuple[Allocation, Decimal]]:
    """Take cash back off the newest allocations until the unapplied part covers ``amount``:
    whole allocations while they do not cover what is missing, then the part still missing
    (``reference``: what takes it). Each allocation touched, with the cash taken off it."""
    taken = []
    for allocation in _newest_first(move.payment):
        missing = amount - move.payment.unapplied
        if missing <= 0:
            break
        if allocation.applied == 0:
            continue  # a discount alone: no cash to give back
        if missing < allocation.applied:
            taken.append(
                (move.take_back_part(allocation.allocation_id, missing, reference), missing)
            )
        else:
            taken.append((move.take_back(allocation.allocation_id), allocation.applied))
    return taken


def _refunded(
    move: CashMove,
    amount: Decimal,
    taken: list[tuple[Allocation, Decimal]],
    *,
    reason: str | None = None,
) -> DomainEvent:
    return payment_event(
        "PaymentRefunded",
        move.payment,
        move.at,
        refund=move.payment.money(amount),
        unapplied_allocations=taken_wire(move, taken),
        reason=reason,
    )


def taken_wire(move: CashMove, taken: list[tuple[Allocation, Decimal]]) -> list[dict[str, Any]]:
    """Each allocation touched (its wire form) with the cash taken off it (``taken``)."""
    currency = move.payment.currency
    return [
        {**allocation.to_wire(currency), "taken": move.payment.money(cash)}
        for allocation, cash in taken
    ]


def reopened_events(move: CashMove) -> list[DomainEvent]:
    return move.invoice_events(payment_id=move.payment.payment_id)
