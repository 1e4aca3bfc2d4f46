"""E-mail the customer about their order (on OrderConfirmed, OrderHeld, OrderShipped,
OrderRejected, OrderClosed). Confirmations and shipping notices follow the customer's
``order_notices`` (``notifications.wants_email``): by default none for an order a partner system
placed.

Exactly once per (event, recipient), over at-least-once delivery:

1. claim a marker ``NOTIFIED#<event id>`` for the recipient with a conditional put - a duplicate
   delivery finds the claim (sent, or being sent right now) and skips;
2. send through SES;
3. mark the claim sent, with SES's MessageId.

If the send fails, the claim is released and the error raised, so SQS retries the message and
the retry claims afresh. A Lambda that dies between 1 and 2 leaves a claim nobody finishes; it
may be taken over once its lease has passed (``shared.store.notifications.CLAIM_LEASE``), which
the message's own retry, after the queue's visibility timeout, always is.

The one window left: a crash AFTER the send and BEFORE step 3 (SES accepted the message, then
the function timed out or died). The claim is then still ``sending``; the retry takes it over
after the lease and the customer gets the same e-mail a second time. SES offers no idempotency
token, so no ordering of these steps closes that window - this one (a rare duplicate) is chosen
over its mirror image (a silently lost e-mail when crashing between claim and send).
"""

from __future__ import annotations

from enum import StrEnum

from shared.adapters import mail
from shared.adapters.bus_events import BusEvent
from shared.domain import notifications
from shared.observability import logger, metrics
from shared.store import customers
from shared.store import notifications as markers


class Outcome(StrEnum):
    SENT = "sent"
    DUPLICATE = "duplicate"  # sent before, or being sent by another attempt right now
    SKIPPED = "skipped"  # nothing to send: an event without an e-mail, an unknown customer
    NOT_WANTED = "not_wanted"  # the customer hears of this another way (``order_notices``)


def notify_customer(event: BusEvent) -> Outcome:
    metadata = event.detail.metadata
    context = {
        "event_id": metadata.event_id,
        "order_id": metadata.aggregate_id,
        "detail_type": event.detail_type,
    }
    if event.detail_type not in notifications.NOTIFIED_EVENTS:
        logger.info("no customer e-mail for this event", extra=context)
        return Outcome.SKIPPED
    order = event.detail.data
    customer_id = order.get("customer_id")
    customer = customers.get(customer_id) if isinstance(customer_id, str) else None
    if customer is None:
        logger.warning("customer not found; no e-mail sent", extra=context)
        return Outcome.SKIPPED
    if not notifications.wants_email(
        event.detail_type, customer.order_notices, order.get("placed_by")
    ):
        logger.info("the customer's order notices say no e-mail", extra=context)
        return Outcome.NOT_WANTED
    recipient = str(getattr(customer, "contact_email", None) or customer.billing_email)
    email = notifications.render(event.detail_type, order, customer.legal_name)
    sender = mail.configured_sender()
    message_id = markers.send_once(
        metadata.event_id,
        recipient,
        detail_type=event.detail_type,
        send=lambda: mail.send(
            sender=sender,
            recipient=recipient,
            subject=email.subject,
            text=email.text,
            html=email.html,
        ),
    )
    if message_id is None:
        logger.info("e-mail already sent or being sent", extra=context)
        return Outcome.DUPLICATE
    logger.info("customer e-mailed", extra={**context, "ses_message_id": message_id})
    metrics.add_metric(name="CustomerEmailsSent", unit="Count", value=1)
    return Outcome.SENT
