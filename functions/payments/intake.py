"""What every intake channel does with a payment: name its customer, and receive it once."""

from __future__ import annotations

from shared.domain.payment import Payment
from shared.observability import logger
from shared.store import customers, outbox, payments
from shared.store.payments import DuplicatePaymentError


def known_customer(customer_id: str | None, currency: str) -> str | None:
    """``customer_id`` when it names an account billed in ``currency``, else None.

    A channel's claim (a gateway's metadata, say) is only a hint: an unknown account, or one
    billed in another currency, leaves the payment unidentified for cash application to place,
    and its credit figures untouched (they are kept in the account's currency).
    """
    if not customer_id:
        return None
    customer = customers.get(customer_id, consistent=True)
    if customer is None or customer.currency != currency:
        logger.info(
            "payment names a customer it cannot be booked to; left unidentified",
            extra={"customer_id": customer_id, "currency": currency},
        )
        return None
    return customer_id


def receive_once(payment: Payment, *, consumed: tuple[str, str] | None = None) -> Payment:
    """Receive ``payment``, or answer the payment its source became before.

    With ``consumed`` (a consumer and the event id it reacts to), a duplicate still marks the
    event consumed; an event consumed before raises the outbox's ``AlreadyConsumedError``.
    """
    try:
        payments.receive(payment, consumed=consumed)
    except DuplicatePaymentError as duplicate:
        existing = payments.get(duplicate.payment_id) if duplicate.payment_id else None
        if existing is None:
            raise  # the guard names a payment that is not there: a broken invariant
        if consumed:
            outbox.commit([], [], consumed=consumed)
        logger.info(
            "payment received before",
            extra={"source": payment.source, "payment_id": existing.payment_id},
        )
        return existing
    return payment
