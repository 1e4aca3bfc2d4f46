"""Cash application: the consumer on the ``cash-application`` queue (payment events).

On ``PaymentReceived`` the matcher (``shared/domain/matching.py``) decides, from the payment,
every open invoice and the payer aliases clerks confirmed, which invoices the payment settles.

- A decision sure enough to apply (``auto``) is applied in ONE transaction (see
  ``settlement.CashMove``): the payment with its allocations, each invoice's next version, the
  journal entries (and, for a payer identified only now, the move out of the suspense ledger),
  the customer's credit figures, the decision record, ``PaymentApplied``, ``InvoicePaid`` for
  each invoice paid in full, and the consumed marker of the event. A payment that pays its
  invoices and exactly their open fees and interest on top settles those charges too (see
  ``matching.with_charges``). A payment that leaves its
  last invoice short by no more than the seller's tolerance (``small_differences`` in the
  seller profile) closes it: the shortfall is written off in the same transaction.
- Otherwise the decision is recorded for the worklist (suggestions, candidates, explanation)
  with ``PaymentUnmatched``, guarded by the payment's version, and the consumed marker.

If an invoice or the payment changed between reading and writing (another payment settled the
invoice, a clerk allocated by hand), everything is read again and decided anew: the decision
always rests on what the write replaces. After ``ATTEMPTS`` contended rounds the message fails
and SQS delivers it again later. ``PaymentDisputed`` and ``PaymentDisputeClosed`` go to
``reversals``.
"""

from __future__ import annotations

import random
import time

from functions.payments import reversals
from functions.payments.settlement import CONSUMER, MATCHER, CashMove, payment_event
from shared import clock
from shared.adapters.bus_events import BusEvent
from shared.config import seller as configured_seller
from shared.domain import matching, remittance
from shared.domain.matching import Decision, PaymentFacts
from shared.domain.payment import Payment
from shared.observability import logger
from shared.store import aliases, decisions, open_invoices, outbox, payments
from shared.store import charges as charge_store
from shared.store.open_invoices import OpenBook
from shared.store.outbox import AlreadyConsumedError, StaleStateError
from shared.store.table import Update

ATTEMPTS = 8
BACKOFF_SECONDS = 0.02  # grows with each attempt, with jitter, so contenders spread out


class PaymentNotFoundError(LookupError):
    """The event names a payment that is not stored (the message goes to its DLQ)."""


class StillContendedError(Exception):
    """Every attempt lost a race for the payment or its invoices: SQS delivers it again."""


def apply_for_event(message: BusEvent) -> object:
    """The consumer's entry point: dispatch one payment event by its detail type."""
    metadata, data = message.detail.metadata, message.detail.data
    payment_id, event_id = metadata.aggregate_id, metadata.event_id
    if message.detail_type == "PaymentReceived":
        return apply_received(payment_id, event_id)
    if message.detail_type == "PaymentDisputed":
        return reversals.dispute_opened(payment_id, event_id)
    if message.detail_type == "PaymentDisputeClosed":
        return reversals.dispute_closed(payment_id, event_id, outcome=data["outcome"])
    logger.warning("not a cash-application event", extra={"type": message.detail_type})
    return None


def apply_received(payment_id: str, event_id: str) -> Decision | None:
    """Decide and apply (or leave for a clerk) a received payment; None if nothing was left."""
    consumed = (CONSUMER, event_id)
    for attempt in range(ATTEMPTS):
        payment = payments.get(payment_id)
        if payment is None:
            raise PaymentNotFoundError(f"payment {payment_id} of a PaymentReceived is not stored")
        try:
            if payment.unapplied <= 0 or payment.disputed:
                outbox.commit([], [], consumed=consumed)
                return None
            book = open_invoices.read()
            decision = decide(payment, book)
            if decision.auto:
                apply_decision(payment, decision, book, consumed)
            else:
                leave_for_clerk(payment, decision, consumed)
        except AlreadyConsumedError:
            logger.info("payment event already applied", extra={"payment_id": payment_id})
            return None
        except StaleStateError:
            logger.info(
                "payment or invoice changed meanwhile; deciding again", extra={"attempt": attempt}
            )
            time.sleep(random.uniform(0, BACKOFF_SECONDS * (attempt + 1)))
            continue
        logger.info(
            "payment decided",
            extra={
                "payment_id": payment_id,
                "auto": decision.auto,
                "confidence": str(decision.confidence),
                "basis": decision.basis,
            },
        )
        return decision
    raise StillContendedError(f"payment {payment_id}: {ATTEMPTS} attempts lost a race")


def facts_of(payment: Payment) -> PaymentFacts:
    """What the matcher knows of a payment: what is left of it to apply, and its payer."""
    return PaymentFacts(
        amount=payment.unapplied,
        currency=payment.currency,
        received_on=payment.received_at.date(),
        payer_name=payment.payer_name,
        payer_account=payment.payer_account,
        remittance=payment.remittance or "",
        metadata=payment.metadata,
        customer_id=payment.customer_id,
    )


def decide(payment: Payment, book: OpenBook) -> Decision:
    """The matcher's decision on ``payment`` against ``book`` and the learnt payer aliases."""
    keys = remittance.payer_key(payment.payer_name, payment.payer_account)
    candidates = book.candidates
    decision = matching.decide(facts_of(payment), candidates, aliases.get_many(keys))
    if decision.auto and payment.customer_id not in (None, decision.customer_id):
        # The channel named the customer; cash of one customer is never applied to another's.
        return decision.model_copy(update={"auto": False})
    tolerance = configured_seller().small_differences
    by_id = {invoice.invoice_id: invoice for invoice in candidates}
    decision = matching.with_small_differences(
        decision,
        by_id,
        lambda invoice: tolerance.for_invoice(
            invoice.currency, book.invoices[invoice.invoice_id].total
        ),
    )
    if decision.auto and decision.customer_id and decision.unapplied > 0:
        decision = matching.with_charges(decision, by_id, _open_charges(decision.customer_id))
    return decision


def _open_charges(customer_id: str) -> list[matching.OpenCharge]:
    """The customer's fees and interest with something due, as the matcher takes them."""
    return [
        matching.OpenCharge(
            charge_id=charge.charge_id,
            invoice_id=charge.invoice_id,
            amount_due=charge.amount_due,
            charged_on=charge.charged_on,
        )
        for charge in charge_store.open_for(customer_id)
    ]


def apply_decision(
    payment: Payment, decision: Decision, book: OpenBook, consumed: tuple[str, str]
) -> Payment:
    """Write the decision's allocations (one transaction; see the module notes)."""
    assert decision.customer_id is not None, "an applied decision names its customer"
    at = clock.now()
    move = CashMove(payment, at)
    move.identify(decision.customer_id)
    evidence = tuple(item.detail for item in decision.evidence)
    allocated = [
        move.allocate_to_charge(
            move.charge(proposal.charge_id),
            proposal.amount,
            by=MATCHER,
            evidence=evidence,
            confidence=decision.confidence,
        )
        if proposal.charge_id
        else move.allocate(
            book.invoices[proposal.invoice_id],
            proposal.amount,
            proposal.discount,
            by=MATCHER,
            evidence=evidence,
            confidence=decision.confidence,
            written_off=proposal.written_off,
        )
        for proposal in decision.allocations
    ]
    record = decisions.wire(decision, at)
    move.extra.append(decisions.record(payment.payment_id, decision, at))
    events = [
        payment_event(
            "PaymentApplied",
            move.payment,
            at,
            allocated=[allocation.to_wire(payment.currency) for allocation in allocated],
            decision=record,
        ),
        *move.invoice_events(payment_id=payment.payment_id),
    ]
    move.commit(events, consumed=consumed)
    return move.payment


def leave_for_clerk(payment: Payment, decision: Decision, consumed: tuple[str, str]) -> None:
    """Record the decision for the worklist (if the payment is still as it was read)."""
    at = clock.now()
    pk, sk = payments.payment_key(payment.payment_id)
    unchanged = Update(
        key=(pk, sk),
        expression="SET decided_at = :now",
        condition="version = :expected",
        values={":now": clock.iso(at), ":expected": payment.version},
    )
    record = decisions.wire(decision, at)
    event = payment_event("PaymentUnmatched", payment, at, decision=record)
    outbox.commit(
        [unchanged, decisions.record(payment.payment_id, decision, at)], [event], consumed=consumed
    )
