"""The gateway-events consumer: a received gateway event becomes its effect on a Payment.

``GatewayEventReceived`` (from the webhook endpoints) carries the parsed event. Its action:

- **payment**: receive the Payment (source guard on the provider and the gateway's payment id,
  so Stripe's ``payment_intent.succeeded`` and ``charge.succeeded`` of one payment, each
  delivered any number of times, become ONE payment);
- **refund**: pay back what the gateway's cumulative refunded total adds to what is refunded
  already (``PaymentRefunded``); a refund beyond the unapplied part first takes the newest
  allocations back, reopening their invoices (``reversals.refund_to_total``, one transaction);
- **dispute opened / closed**: the dispute's amount is withdrawn (a chargeback, covered like a
  refund and holding the invoices it touches as disputed), then given back and applied again
  when won, or kept withdrawn when lost (``chargebacks``), with
  ``PaymentDisputed`` / ``PaymentDisputeClosed``.

Refunds and disputes can overtake the payment they concern (gateways do not promise order):
the message then fails and SQS delivers it again later. Every effect is written with a consumed
marker for the event id, so redeliveries change nothing.
"""

from __future__ import annotations

from decimal import Decimal

from functions.payments import chargebacks, reversals
from functions.payments.intake import known_customer, receive_once
from shared.adapters.bus_events import BusEvent
from shared.domain import payment as payment_domain
from shared.domain.gateway_events import Action, GatewayEvent
from shared.domain.payment import Payment
from shared.observability import logger
from shared.store import outbox, payments
from shared.store.outbox import AlreadyConsumedError

CONSUMER = "gateway-events"


class PaymentNotReceivedError(LookupError):
    """The event concerns a payment not received (yet): SQS retries the message later."""


class GatewayEventMismatchError(ValueError):
    """The event contradicts the payment it names (another currency)."""


def record_gateway_event(message: BusEvent) -> Payment | None:
    """The consumer's entry point: one ``GatewayEventReceived``; the payment it concerns."""
    event = GatewayEvent.from_data(message.detail.data)
    consumed = (CONSUMER, message.detail.metadata.event_id)
    try:
        if event.action is Action.PAYMENT:
            return _receive(event, consumed)
        if event.action is Action.REFUND:
            return _refund(event, consumed)
        if event.action in (Action.DISPUTE_OPENED, Action.DISPUTE_CLOSED):
            return _dispute(event, consumed)
    except AlreadyConsumedError:
        logger.info("gateway event already applied", extra={"event_id": event.event_id})
        return None
    logger.warning("gateway event asks for nothing", extra={"event_id": event.event_id})
    return None


def _receive(event: GatewayEvent, consumed: tuple[str, str]) -> Payment:
    reported = event.payment
    assert reported is not None, "a payment event carries the payment"
    metadata = {**reported.metadata, "gateway_event_id": event.event_id}
    if event.evidence_key:
        metadata["evidence_key"] = event.evidence_key
    payment = payment_domain.receive(
        source=event.provider,
        external_id=reported.external_id,
        method=reported.method,
        amount=reported.amount,
        currency=reported.currency,
        received_at=reported.received_at,
        payer_name=reported.payer_name,
        payer_account=reported.payer_account,
        remittance=reported.remittance,
        metadata=metadata,
        customer_id=known_customer(reported.customer_id, reported.currency),
    )
    received = receive_once(payment, consumed=consumed)
    logger.info(
        "gateway payment recorded",
        extra={"payment_id": received.payment_id, "gateway_event_id": event.event_id},
    )
    return received


def _refund(event: GatewayEvent, consumed: tuple[str, str]) -> Payment:
    refund = event.refund
    assert refund is not None, "a refund event carries the refund"
    payment = _payment_of(event, refund.external_id)
    if refund.currency != payment.currency:
        raise GatewayEventMismatchError(
            f"refund in {refund.currency} of payment {payment.payment_id} in {payment.currency}"
        )
    amount = refund.refunded_total - payment.refunded
    if amount <= Decimal(0):
        _consume(consumed)  # an older (or repeated) refund total: nothing more to pay back
        return payment
    if amount > payment.unapplied:
        # Cash applied to invoices comes back first, newest allocation first.
        refunded = reversals.refund_to_total(
            payment.payment_id, refund.refunded_total, at=event.created, consumed=consumed
        )
        return refunded or payment
    after = payment_domain.refund(payment, amount, event.created)
    refund_id = f"{payment.payment_id}:{refund.refunded_total}"
    outbox.commit(
        payments.refund_writes(payment, after, amount, refund_id),
        [payment_domain.refunded_event(after, amount, event.created)],
        consumed=consumed,
    )
    return after


def _dispute(event: GatewayEvent, consumed: tuple[str, str]) -> Payment:
    """A dispute opened (its amount withdrawn) or closed (won: the money back; lost: kept
    withdrawn), each exactly once per dispute whatever order Stripe delivers them in."""
    dispute = event.dispute
    assert dispute is not None, "a dispute event carries the dispute"
    payment = _payment_of(event, dispute.external_id)
    if dispute.currency != payment.currency:
        raise GatewayEventMismatchError(
            f"dispute in {dispute.currency} of payment {payment.payment_id} in {payment.currency}"
        )
    if event.action is Action.DISPUTE_OPENED:
        after = chargebacks.opened(
            payment.payment_id,
            dispute.dispute_id,
            dispute.amount,
            reason=dispute.reason,
            at=event.created,
            consumed=consumed,
        )
    else:
        after = chargebacks.closed(
            payment.payment_id,
            dispute.dispute_id,
            dispute.amount,
            outcome=dispute.outcome or "lost",
            at=event.created,
            consumed=consumed,
        )
    return after or payment


def _payment_of(event: GatewayEvent, external_id: str) -> Payment:
    payment = payments.by_source(event.provider, external_id)
    if payment is None:
        raise PaymentNotReceivedError(
            f"{event.type} {event.event_id} names {event.provider} payment {external_id}, "
            "which is not received yet; the message is retried"
        )
    return payment


def _consume(consumed: tuple[str, str]) -> None:
    outbox.commit([], [], consumed=consumed)
