"""POST /webhooks/stripe and POST /webhooks/{provider}: a gateway tells us about a payment.

The request carries no API key: the signature authenticates it. Stripe signs
``Stripe-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<raw body>")>`` (several
``v1`` while a secret rolls); generic providers sign the same way in ``Webhook-Signature``. The
raw bytes are verified before anything is parsed, against the secret(s) in SSM, within 300
seconds of the timestamp, in constant time. A request that fails answers 400 and leaves no
trace: no object, no item.

A verified event is kept as evidence (the raw body, in S3 under ``webhooks/<provider>/<event
id>.json``) and recorded in ONE transaction - a receipt guard on the provider's event id and a
``GatewayEventReceived`` event - and the gateway gets its 200 at once; the consumer on the
``gateway-events`` queue does the rest. A delivery of an event received before answers 200 with
``"duplicate": true`` and writes nothing; an event of a type the intake does not act on is
acknowledged and recorded as ignored.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from shared import clock, errors, payloads
from shared.adapters import documents, secrets
from shared.config import settings
from shared.domain import gateway_events, webhooks
from shared.domain.gateway_events import GatewayEvent, GatewayEventError, GenericWebhook
from shared.domain.payment import PROVIDER_NAME
from shared.observability import logger
from shared.store import gateway_events as receipts
from shared.store.gateway_events import DuplicateGatewayEventError

STRIPE_SIGNATURE_HEADER = "Stripe-Signature"
GENERIC_SIGNATURE_HEADER = "Webhook-Signature"
TOLERANCE_SECONDS = 300


def invalid_signature(detail: str) -> errors.DomainError:
    return errors.Invalid("invalid-signature", "Invalid signature", detail)


def invalid_event(detail: str) -> errors.DomainError:
    return errors.Invalid("invalid-event", "Unreadable event", detail)


def unknown_provider(provider: str) -> errors.DomainError:
    return errors.NotFound(f"webhook provider {provider!r}")


def not_configured(detail: str) -> errors.DomainError:
    return errors.Unavailable("webhooks-not-configured", "Webhooks not configured", detail)


def receive_stripe(raw_body: bytes | str | None, headers: Mapping[str, str]) -> dict[str, Any]:
    """Verify and record one Stripe delivery; the answer Stripe gets."""
    content = _bounded(raw_body)
    _verify(gateway_events.STRIPE, headers.get(STRIPE_SIGNATURE_HEADER), content)
    try:
        event = gateway_events.parse_stripe(content)
    except GatewayEventError as error:
        raise invalid_event(str(error)) from None
    return _record(event, content)


def receive_generic(
    provider: str, raw_body: bytes | str | None, headers: Mapping[str, str]
) -> dict[str, Any]:
    """Verify, validate and record one delivery of a generic provider."""
    if not PROVIDER_NAME.fullmatch(provider) or provider == gateway_events.STRIPE:
        raise unknown_provider(provider)
    content = _bounded(raw_body)
    _verify(provider, headers.get(GENERIC_SIGNATURE_HEADER), content)
    try:
        webhook = payloads.parse(content, GenericWebhook, content_type=headers.get("Content-Type"))
        event = gateway_events.from_generic(provider, webhook)
    except GatewayEventError as error:
        raise errors.Unprocessable("invalid-event", str(error)) from None
    return _record(event, content)


def evidence_key(provider: str, event_id: str) -> str:
    return f"webhooks/{provider}/{event_id}.json"


def _bounded(raw_body: bytes | str | None) -> bytes:
    content = raw_body.encode() if isinstance(raw_body, str) else raw_body or b""
    limit = settings().max_body_bytes
    if len(content) > limit:
        raise errors.TooLarge(f"the body exceeds {limit} bytes")
    return content


def _verify(provider: str, header: str | None, content: bytes) -> None:
    """Raise 400 unless ``header`` signs ``content`` with one of the provider's secrets."""
    try:
        candidates = secrets.webhook_secrets(provider)
    except secrets.UnknownProviderError:
        if provider == gateway_events.STRIPE:
            raise not_configured("the Stripe signing secret is not configured") from None
        raise unknown_provider(provider) from None
    except secrets.SecretsNotConfiguredError as error:
        raise not_configured(str(error)) from None
    if not header:
        raise invalid_signature("the request has no signature header")
    now = int(clock.now().timestamp())
    if not any(
        webhooks.verify(secret, header, content, now=now, tolerance=TOLERANCE_SECONDS)
        for secret in candidates
    ):
        logger.warning("webhook signature refused", extra={"provider": provider})
        raise invalid_signature(
            "the signature does not match the body, or its timestamp is more than "
            f"{TOLERANCE_SECONDS} seconds away"
        )


def _record(event: GatewayEvent, content: bytes) -> dict[str, Any]:
    if receipts.received(event.provider, event.event_id):
        return _duplicate(event)
    if event.action is None:
        try:
            receipts.record(event)
        except DuplicateGatewayEventError:
            return _duplicate(event)
        logger.info("gateway event ignored", extra={"event_id": event.event_id, "t": event.type})
        return {"received": True, "ignored": True}
    key = evidence_key(event.provider, event.event_id)
    documents.write(
        key,
        content,
        content_type="application/json",
        metadata={"provider": event.provider, "event-type": event.type},
    )
    try:
        receipts.record(event.model_copy(update={"evidence_key": key}))
    except DuplicateGatewayEventError:
        return _duplicate(event)
    logger.info(
        "gateway event received",
        extra={"provider": event.provider, "event_id": event.event_id, "type": event.type},
    )
    return {"received": True}


def _duplicate(event: GatewayEvent) -> dict[str, Any]:
    logger.info("gateway event delivered again", extra={"event_id": event.event_id})
    return {"received": True, "duplicate": True}
