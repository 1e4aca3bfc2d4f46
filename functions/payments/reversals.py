"""Money that goes back: refunds beyond the unapplied part, and chargebacks at the gateway.

Either moves exactly its amount: the unapplied part of the payment pays first, then the newest
allocations give back cash until it is covered - the last one only the part still needed (it
stays applied for the rest) - and their invoices reopen by exactly what was taken off them.

- **Refunds** (``refund_to_total``): the gateway's cumulative refunded total; only its increase
  over what is refunded already moves. ONE transaction with ``PaymentRefunded`` (naming the
  allocations taken back) and ``InvoiceReopened`` per invoice.
- **Chargebacks** (``chargeback_opened``): a dispute's ``amount`` is withdrawn by the gateway
  (held on the payment as a ``Chargeback``); every invoice the payment still pays or the
  chargeback reopened is ``disputed`` while the dispute is open, so collections leave it alone.
  ``chargeback_closed`` won: the money comes back and is applied again to what it was taken
  off (as far as still due); lost: it stays withdrawn and the invoices are owed again (a
  dispute first seen closed as lost withdraws then). ``PaymentDisputed`` and
  ``PaymentDisputeClosed`` carry the amounts; their own consumers (``dispute_opened``,
  ``dispute_closed``) find the invoices marked already.

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
from shared.domain import payment as payment_domain
from shared.domain.events import DomainEvent
from shared.domain.invoice import Invoice, InvoiceStatus
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
        taken = _cover(move, amount, f"refund:{refunded_total}")
        move.refund(amount, f"{payment.payment_id}:{refunded_total}")
        return move, [_refunded(move, amount, taken), *_reopened(move)]

    return _run(payment_id, consumed, build)


def chargeback_opened(
    payment_id: str,
    dispute_id: str,
    amount: Decimal,
    *,
    reason: str | None,
    at: datetime,
    consumed: tuple[str, str] | None = None,
) -> Payment | None:
    """The gateway opened a dispute and withdrew ``amount`` (see the module notes)."""

    def build(payment: Payment) -> tuple[CashMove, list[DomainEvent]] | None:
        if payment_domain.dispute_state(payment, dispute_id) is not None:
            return None  # known already (a repeat, or a late "created" after "closed")
        move = CashMove(payment, at)
        taken = _withdraw(move, dispute_id, amount)
        move.set_payment(payment_domain.dispute(move.payment, True, dispute_id=dispute_id))
        disputed = move.mark_disputed(_invoices_held(move, dispute_id), open=True)
        event = _dispute_event(
            "PaymentDisputed",
            move,
            dispute_id,
            taken,
            dispute={"id": dispute_id, "reason": reason},
        )
        return move, [
            event,
            *_reopened(move),
            *_invoice_events("InvoiceDisputed", disputed, move),
        ]

    return _run(payment_id, consumed, build)


def chargeback_closed(
    payment_id: str,
    dispute_id: str,
    amount: Decimal,
    *,
    outcome: str,
    at: datetime,
    consumed: tuple[str, str] | None = None,
) -> Payment | None:
    """The dispute closed: won, its money comes back and is applied again; lost, it stays
    withdrawn (withdrawn now if the opening was never seen)."""

    def build(payment: Payment) -> tuple[CashMove, list[DomainEvent]] | None:
        if payment_domain.dispute_state(payment, dispute_id) not in (None, "open"):
            return None  # closed before: a repeat
        move = CashMove(payment, at)
        held = payment.chargeback(dispute_id)
        taken: list[tuple[Allocation, Decimal]] = []
        if outcome == "won" and held is not None and held.held:
            _reapply(move, move.reinstate(dispute_id))
        elif outcome == "lost" and held is None:
            taken = _withdraw(move, dispute_id, amount)
        touched = _invoices_held(move, dispute_id)
        move.set_payment(
            payment_domain.dispute(move.payment, False, dispute_id=dispute_id, outcome=outcome)
        )
        settled = [] if move.payment.disputed else _settle_disputes(move, touched)
        event = _dispute_event(
            "PaymentDisputeClosed",
            move,
            dispute_id,
            taken,
            dispute={"id": dispute_id},
            outcome=outcome,
        )
        return move, [
            event,
            *_reopened(move),
            *_invoice_events("InvoiceDisputeClosed", settled, move),
        ]

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
    """``PaymentDisputeClosed``: the invoices the payment pays are no longer disputed (once
    no other dispute of the payment is open)."""

    del outcome  # the money moved with the gateway's event (``chargeback_closed``)

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


def _cover(move: CashMove, amount: Decimal, reference: str) -> list[tuple[Allocation, Decimal]]:
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


def _withdraw(move: CashMove, dispute_id: str, amount: Decimal) -> list[tuple[Allocation, Decimal]]:
    """The chargeback of ``amount`` (at most what the payment still keeps), covered first."""
    payment = move.payment
    amount = min(amount, payment.amount - payment.refunded - payment.withdrawn)
    if amount <= 0:
        return []
    taken = _cover(move, amount, f"dispute:{dispute_id}")
    reopened = [
        payment_domain.Reopened(
            invoice_id=allocation.invoice_id,
            invoice_number=allocation.invoice_number,
            amount=cash,
        )
        for allocation, cash in taken
    ]
    move.withdraw(dispute_id, amount, reopened)
    return taken


def _reapply(move: CashMove, chargeback: payment_domain.Chargeback) -> None:
    """Apply a won dispute's money again to what its chargeback took it off, as far as those
    invoices still have it due (the rest stays unapplied, for cash application)."""
    for index, part in enumerate(chargeback.reopened):
        invoice = move.invoice(part.invoice_id)
        amount = min(part.amount, invoice.amount_due, move.payment.unapplied)
        if amount <= 0:
            continue
        move.allocate(
            invoice,
            amount,
            Decimal(0),
            by=CONSUMER,
            evidence=("dispute_won",),
            confidence=Decimal(1),
            allocation_id=f"alc_{chargeback.dispute_id}_{index}",
        )


def _settle_disputes(move: CashMove, invoice_ids: list[str]) -> list[Invoice]:
    """The invoices no longer disputed: those that were when read and are not any more (a
    won dispute's re-application may have settled one already)."""
    move.mark_disputed(invoice_ids, open=False)
    return [
        move.invoice(invoice_id)
        for invoice_id in dict.fromkeys(invoice_ids)
        if move.invoices_before[invoice_id].status is InvoiceStatus.DISPUTED
        and move.invoice(invoice_id).status is not InvoiceStatus.DISPUTED
    ]


def _invoices_held(move: CashMove, dispute_id: str) -> list[str]:
    """The invoices a dispute holds: those the payment pays, and those its chargeback reopened."""
    held = move.payment.chargeback(dispute_id)
    reopened = [part.invoice_id for part in held.reopened] if held else []
    return [a.invoice_id for a in move.payment.active_allocations] + reopened


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
        unapplied_allocations=_taken_wire(move, taken),
        reason=reason,
    )


def _dispute_event(
    detail_type: str,
    move: CashMove,
    dispute_id: str,
    taken: list[tuple[Allocation, Decimal]],
    **data: object,
) -> DomainEvent:
    held = move.payment.chargeback(dispute_id)
    return payment_event(
        detail_type,
        move.payment,
        move.at,
        chargeback=held.to_wire(move.payment.currency) if held else None,
        unapplied_allocations=_taken_wire(move, taken),
        **data,
    )


def _taken_wire(move: CashMove, taken: list[tuple[Allocation, Decimal]]) -> list[dict[str, Any]]:
    """Each allocation touched (its wire form) with the cash taken off it (``taken``)."""
    currency = move.payment.currency
    return [
        {**allocation.to_wire(currency), "taken": move.payment.money(cash)}
        for allocation, cash in taken
    ]


def _invoice_events(detail_type: str, touched: list[Invoice], move: CashMove) -> list[DomainEvent]:
    payment_id = move.payment.payment_id
    return [
        invoice_event(detail_type, invoice, move.at, payment_id=payment_id) for invoice in touched
    ]


def _reopened(move: CashMove) -> list[DomainEvent]:
    return move.invoice_events(payment_id=move.payment.payment_id)
