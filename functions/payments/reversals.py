"""Money that goes back: refunds beyond the unapplied part, and disputes at the gateway.

- **Refunds.** The gateway-events consumer pays a refund back out of the unapplied part of the
  payment itself. A refund larger than that comes here (``refund_to_total``): the newest
  allocations are taken back until the unapplied part covers it - their invoices reopen - and
  the refund is paid, in ONE transaction with ``PaymentRefunded`` (naming the allocations taken
  back) and ``InvoiceReopened`` per invoice.
- **Disputes.** On ``PaymentDisputed`` every invoice the payment is applied to becomes
  ``disputed`` (``InvoiceDisputed``): collections leave it alone while the money may go back.
  On ``PaymentDisputeClosed`` won, the invoices get back the status their amounts say
  (``InvoiceDisputeClosed``); lost, the gateway took the money back: every allocation is taken
  back and what is left of the payment is refunded, as above.

Each runs against the payment and invoices as read, guarded by their versions; a concurrent
write means reading again (``ATTEMPTS`` rounds, then the message is retried by SQS).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from decimal import Decimal

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
        taken = _cover(move, amount)
        move.refund(amount, f"{payment.payment_id}:{refunded_total}")
        return move, [_refunded(move, amount, taken), *_reopened(move)]

    return _run(payment_id, consumed, build)


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

    return _run(payment_id, (CONSUMER, event_id), build)


def dispute_closed(payment_id: str, event_id: str, *, outcome: str) -> Payment | None:
    """``PaymentDisputeClosed``: won, the invoices are no longer disputed; lost, the money
    went back to the payer (a refund of everything still kept)."""

    def build(payment: Payment) -> tuple[CashMove, list[DomainEvent]] | None:
        move = CashMove(payment, clock.now())
        if outcome == "lost":
            kept = payment.amount - payment.refunded
            if kept <= 0:
                return None
            taken = [move.take_back(a.allocation_id) for a in _newest_first(payment)]
            move.refund(kept, f"{payment.payment_id}:chargeback:{event_id}")
            return move, [_refunded(move, kept, taken, reason="dispute lost"), *_reopened(move)]
        if payment.disputed:
            return None  # another dispute of the payment is still open
        touched = move.mark_invoices_disputed(open=False)
        if not touched:
            return None
        return move, [
            invoice_event("InvoiceDisputeClosed", invoice, move.at, payment_id=payment_id)
            for invoice in touched
        ]

    return _run(payment_id, (CONSUMER, event_id), build)


# --- helpers ---------------------------------------------------------------------------------


def _run(
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


def _cover(move: CashMove, amount: Decimal) -> list[Allocation]:
    """Take the newest allocations back until the unapplied part covers ``amount``."""
    taken = []
    for allocation in _newest_first(move.payment):
        if move.payment.unapplied >= amount:
            break
        taken.append(move.take_back(allocation.allocation_id))
    return taken


def _refunded(
    move: CashMove, amount: Decimal, taken: list[Allocation], *, reason: str | None = None
) -> DomainEvent:
    currency = move.payment.currency
    return payment_event(
        "PaymentRefunded",
        move.payment,
        move.at,
        refund=move.payment.money(amount),
        unapplied_allocations=[allocation.to_wire(currency) for allocation in taken],
        reason=reason,
    )


def _reopened(move: CashMove) -> list[DomainEvent]:
    return move.invoice_events(payment_id=move.payment.payment_id)
