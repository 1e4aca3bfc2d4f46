"""Take an allocation back (POST /payments/{payment_id}/allocations/{allocation_id}/reversal).

Cash applied to the wrong invoice is not edited away: the allocation is marked reversed (it
stays on the payment, with when), its cash is unapplied again, and its invoice reopens - all in
ONE transaction (see ``settlement``) with the unapplication's journal entry, the credit figures
(receivables up, unapplied cash up), ``PaymentUnapplied`` naming who and why, and
``InvoiceReopened``. The clerk can then allocate the cash anew.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import ConfigDict

from functions.payments.settlement import CashMove, payment_event
from functions.payments.worklist import with_decision
from shared import clock, errors
from shared.domain.access import Principal
from shared.domain.text import MultiLine
from shared.model import Model
from shared.store import payments
from shared.store.outbox import StaleStateError

ATTEMPTS = 2

Reason = Annotated[str, MultiLine(max_length=500)]


class ReversalRequest(Model):
    """Why the allocation is taken back (kept in the audit trail)."""

    model_config = ConfigDict(extra="forbid", strict=True)

    reason: Reason


def unapply_allocation(
    payment_id: str, allocation_id: str, request: ReversalRequest, principal: Principal
) -> dict[str, Any]:
    """The payment after the reversal; 404 unknown, 409 reversed before or contended."""
    for attempt in range(ATTEMPTS):
        payment = payments.get(payment_id)
        if payment is None:
            raise errors.NotFound(f"payment {payment_id}")
        allocation = next(
            (a for a in payment.allocations if a.allocation_id == allocation_id), None
        )
        if allocation is None:
            raise errors.NotFound(f"allocation {allocation_id} of payment {payment_id}")
        if not allocation.active:
            raise errors.Conflict(
                "already-reversed",
                f"allocation {allocation_id} was taken back before",
                current_version=payment.version,
            )
        move = CashMove(payment, clock.now())
        reversed_allocation = move.take_back(allocation_id)
        cause = {
            "payment_id": payment_id,
            "reason": request.reason,
            "unapplied_by": principal.principal_id,
        }
        events = [
            payment_event(
                "PaymentUnapplied",
                move.payment,
                move.at,
                allocation=reversed_allocation.to_wire(payment.currency),
                reason=request.reason,
                unapplied_by=principal.principal_id,
            ),
            *move.invoice_events(**cause),
        ]
        try:
            move.commit(events)
        except StaleStateError:
            if attempt == ATTEMPTS - 1:
                raise errors.Conflict(
                    "concurrent-modification",
                    "the payment or its invoice changed meanwhile; read them again and retry",
                ) from None
            continue
        return with_decision(move.payment)
    raise AssertionError("unreachable")
