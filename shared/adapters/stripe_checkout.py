"""Checkout Sessions created at Stripe through its library (``stripe.checkout.Session.create``).

The secret API key comes from SSM (``secrets.stripe_api_key``), as for refunds. The request
carries an idempotency key of ours, so a repeated request (a double click, a retry) makes ONE
session at Stripe and answers it again. Stripe reports the payment with its signed
``checkout.session.completed`` webhook; the session answered here is only where to pay.
"""

from __future__ import annotations

from dataclasses import dataclass

import stripe

from shared.adapters import secrets, stripe_api


class CheckoutUnavailableError(Exception):
    """No Stripe key is configured, or Stripe could not be reached or refused the request."""


@dataclass(frozen=True)
class LineItem:
    name: str
    minor_amount: int  # in the currency's minor unit
    currency: str  # ISO 4217, any case


@dataclass(frozen=True)
class CreatedSession:
    session_id: str  # Stripe's cs_...
    url: str  # where the payer pays


def configured() -> bool:
    """Whether this deployment holds a Stripe secret key (card payment is offered only then)."""
    try:
        secrets.stripe_api_key()
    except secrets.SecretsNotConfiguredError:
        return False
    return True


def create_session(
    items: list[LineItem],
    *,
    client_reference_id: str,
    metadata: dict[str, str],
    success_url: str,
    cancel_url: str,
    idempotency_key: str,
) -> CreatedSession:
    """A ``mode=payment`` session for ``items``; its payment intent carries ``metadata`` too,
    so either of Stripe's events names what the money pays."""
    stripe_api.use_configured_base()
    try:
        api_key = secrets.stripe_api_key()
    except secrets.SecretsNotConfiguredError as error:
        raise CheckoutUnavailableError(f"no Stripe API key: {error}") from error
    try:
        session = stripe.checkout.Session.create(
            api_key=api_key,
            idempotency_key=idempotency_key,
            mode="payment",
            line_items=[
                {
                    "quantity": 1,
                    "price_data": {
                        "currency": item.currency.lower(),
                        "unit_amount": item.minor_amount,
                        "product_data": {"name": item.name},
                    },
                }
                for item in items
            ],
            client_reference_id=client_reference_id,
            metadata=metadata,
            payment_intent_data={"metadata": metadata},
            success_url=success_url,
            cancel_url=cancel_url,
        )
    except stripe.StripeError as error:
        raise CheckoutUnavailableError(str(error)) from error
    if not session.url:
        raise CheckoutUnavailableError(f"Stripe answered session {session.id} without a URL")
    return CreatedSession(session_id=session.id, url=str(session.url))
