"""Chargebacks: a gateway's dispute withdraws exactly its amount, and gives it back if won.

- **Opened** (``opened``): the dispute's ``amount`` is withdrawn (held on the payment as a
  ``Chargeback``), covered as a refund is (``reversals.cover``: the unapplied part first, then
  cash taken off the newest allocations, the last only in part); every invoice the payment still
  pays or the chargeback reopened is ``disputed`` while the dispute is open, so collections leave
  it alone. The journal: the parts taken back (unapplication) and the chargeback (DR unapplied
  cash, CR cash), ids named by the payment and dispute.
- **Closed** (``closed``) won: the money comes back (the chargeback reversed) and is applied
  again to the invoices it was taken off, as far as they still have it due; lost: it stays
  withdrawn and the invoices are owed again. A dispute first seen closed as lost withdraws then;
  one first seen closed as won moves nothing.

Each is ONE transaction with ``PaymentDisputed`` / ``PaymentDisputeClosed`` (the chargeback and
the cash taken off each allocation), ``InvoiceReopened``, ``InvoiceDisputed`` /
``InvoiceDisputeClosed``. The payment remembers each dispute's state, so a repeated or late
event (a "created" after "closed") changes nothing.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from functions.payments.reversals import cover, reopened_events, run, taken_wire
from functions.payments.settlement import CONSUMER, CashMove, invoice_event, payment_event
from shared.domain import payment as payment_domain
from shared.domain.events import DomainEvent
from shared.domain.invoice import Invoice, InvoiceStatus
from shared.domain.payment import Allocation, Payment


def opened(
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
            *reopened_events(move),
            *_invoice_events("InvoiceDisputed", disputed, move),
        ]

    return run(payment_id, consumed, build)


def closed(
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
            *reopened_events(move),
            *_invoice_events("InvoiceDisputeClosed", settled, move),
        ]

    return run(payment_id, consumed, build)


# --- helpers ---------------------------------------------------------------------------------


def _withdraw(move: CashMove, dispute_id: str, amount: Decimal) -> list[tuple[Allocation, Decimal]]:
    """The chargeback of ``amount`` (at most what the payment still keeps), covered first."""
    payment = move.payment
    amount = min(amount, payment.amount - payment.refunded - payment.withdrawn)
    if amount <= 0:
        return []
    taken = cover(move, amount, f"dispute:{dispute_id}")
    reopened = [
        payment_domain.Reopened(
            invoice_id=allocation.invoice_id,
            invoice_number=allocation.invoice_number,
            amount=cash,
            charge_id=allocation.charge_id,
        )
        for allocation, cash in taken
    ]
    move.withdraw(dispute_id, amount, reopened)
    return taken


def _reapply(move: CashMove, chargeback: payment_domain.Chargeback) -> None:
    """Apply a won dispute's money again to what its chargeback took it off, as far as those
    invoices still have it due (the rest stays unapplied, for cash application)."""
    for index, part in enumerate(chargeback.reopened):
        allocation_id = f"alc_{chargeback.dispute_id}_{index}"
        if part.charge_id is not None:
            charge = move.charge(part.charge_id)
            amount = min(part.amount, charge.amount_due, move.payment.unapplied)
            if amount > 0:
                move.allocate_to_charge(
                    charge,
                    amount,
                    by=CONSUMER,
                    evidence=("dispute_won",),
                    confidence=Decimal(1),
                    allocation_id=allocation_id,
                )
            continue
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
            allocation_id=allocation_id,
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
    reopened = [part.invoice_id for part in held.reopened if not part.charge_id] if held else []
    paid = [a.invoice_id for a in move.payment.active_allocations if not a.is_charge]
    return paid + reopened


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
        unapplied_allocations=taken_wire(move, taken),
        **data,
    )


def _invoice_events(detail_type: str, touched: list[Invoice], move: CashMove) -> list[DomainEvent]:
    payment_id = move.payment.payment_id
    return [
        invoice_event(detail_type, invoice, move.at, payment_id=payment_id) for invoice in touched
    ]
