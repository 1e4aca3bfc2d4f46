"""Refunds requested from Stripe through its library (``stripe.Refund.create``).

The secret API key comes from SSM (``secrets.stripe_api_key``). Each request carries an
idempotency key of ours, so a retried request (ours, or the library's) makes ONE refund at
Stripe and answers the same Refund again. Stripe confirms the money moved with its
``charge.refunded`` / ``refund.updated`` webhooks; the refund answered here is a request.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

import stripe

from shared.adapters import secrets, stripe_api
from shared.domain.money import minor_units


class RefundRefusedError(Exception):
    """Stripe refused the refund (e.g. more than the charge has left): not worth a retry."""


class GatewayUnavailableError(Exception):
    """Stripe could not be reached, is overloaded or refused our key (or none is configured):
    the same request may be retried once it is back."""


@dataclass(frozen=True)
class RequestedRefund:
    refund_id: str  # Stripe's re_...
    status: str  # pending | succeeded | failed | requires_action | canceled
    amount: Decimal
    currency: str


def request_refund(
    payment_reference: str,
    amount: Decimal,
    currency: str,
    *,
    idempotency_key: str,
    metadata: dict[str, str],
) -> RequestedRefund:
    """Ask Stripe to pay ``amount`` of the charge or payment intent ``payment_reference`` back."""
    minor = int((amount * (10 ** minor_units(currency))).to_integral_value())
    target = "charge" if payment_reference.startswith(("ch_", "py_")) else "payment_intent"
    stripe_api.use_configured_base()
    try:
        api_key = secrets.stripe_api_key()
    except secrets.SecretsNotConfiguredError as error:
        raise GatewayUnavailableError(f"no Stripe API key: {error}") from error
    try:
        refund = stripe.Refund.create(
            api_key=api_key,
            idempotency_key=idempotency_key,
            amount=minor,
            metadata=metadata,
            **{target: payment_reference},  # type: ignore[arg-type]
        )
    except (stripe.InvalidRequestError, stripe.CardError) as error:
        raise RefundRefusedError(error.user_message or str(error)) from error
    except stripe.StripeError as error:  # unreachable, overloaded, or our key refused
        raise GatewayUnavailableError(str(error)) from error
    refunded_currency = str(refund.currency).upper()
    return RequestedRefund(
        refund_id=refund.id,
        status=str(refund.status),
        amount=Decimal(refund.amount).scaleb(-minor_units(refunded_currency)),
        currency=refunded_currency,
    )
