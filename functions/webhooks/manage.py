"""Register, read and remove a partner's webhook, and list its deliveries.

Who may: an admin (``Action.MANAGE_ACCESS``, declared by the routes) for any partner, a partner
for itself. Another partner's webhook answers 404, as if it did not exist (``scope``).
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import ConfigDict, Field, SecretStr, StringConstraints

from shared import clock, errors
from shared.adapters import webhook_destination
from shared.adapters.host_resolution import ResolverUnavailableError
from shared.domain import webhooks as domain
from shared.domain.access import Principal, Role
from shared.domain.webhooks import WebhookRequest
from shared.model import Model
from shared.observability import logger
from shared.store import table
from shared.store import webhooks as store
from shared.store.webhooks import Webhook

MAX_ID_LENGTH = 64


def scope(principal: Principal, partner_id: str) -> None:
    """404 for another partner's webhook (or an id no partner has): it is not the caller's."""
    mine = principal.role is not Role.PARTNER or principal.principal_id == partner_id
    if not mine or len(partner_id) > MAX_ID_LENGTH:
        raise errors.NotFound(f"the webhook of partner {partner_id}")


def register(partner_id: str, request: WebhookRequest) -> tuple[Webhook, str]:
    """Create or replace the webhook with a new signing secret; return both (the secret once)."""
    try:
        webhook_destination.vet(request.url)  # refused now, not at the first delivery
    except domain.InvalidWebhookUrlError as error:
        raise errors.Unprocessable(
            "invalid-webhook-url",
            str(error),
            errors=[{"pointer": "#/url", "detail": str(error)}],
        ) from None
    except ResolverUnavailableError as error:
        raise errors.Unavailable(
            "webhook-host-unresolved",
            "Webhook host not resolved",
            f"{error}; retry later",
            retry_after=5,
        ) from None
    now = clock.now()
    existing = store.get_webhook(partner_id)
    secret = domain.new_secret()
    webhook = Webhook(
        partner_id=partner_id,
        url=request.url,
        events=request.event_types(),
        secret=SecretStr(secret),
        created_at=existing.created_at if existing else now,
        updated_at=now,
    )
    store.put_webhook(webhook, existing, indexed=domain.CUSTOMER_EVENT_TYPES)
    logger.info(
        "webhook registered",
        extra={
            "partner_id": partner_id,
            "events": list(webhook.events),
            "replaced": bool(existing),
        },
    )
    return webhook, secret


def read(partner_id: str) -> Webhook:
    webhook = store.get_webhook(partner_id)
    if webhook is None:
        raise errors.NotFound(f"the webhook of partner {partner_id}")
    return webhook


def remove(partner_id: str) -> None:
    if not store.delete_webhook(partner_id):
        raise errors.NotFound(f"the webhook of partner {partner_id}")
    logger.info("webhook removed", extra={"partner_id": partner_id})


class DeliveryQuery(Model):
    """The query string of GET /partners/{partner_id}/webhook/deliveries (``limit`` 1-100)."""

    model_config = ConfigDict(extra="forbid")

    limit: int = Field(default=25, ge=1, le=100)
    cursor: Annotated[str, StringConstraints(max_length=1024)] | None = None


def list_deliveries(partner_id: str, query: DeliveryQuery) -> dict[str, Any]:
    """One page of deliveries, newest first: ``{"deliveries": [...], "next_cursor": ...}``."""
    try:
        page = store.list_deliveries(partner_id, limit=query.limit, cursor=query.cursor)
    except table.InvalidCursorError:
        raise errors.InvalidQuery(
            [{"parameter": "cursor", "detail": "not a cursor this API handed out"}]
        ) from None
    return {
        "deliveries": [delivery.to_wire() for delivery in store.deliveries(page)],
        "next_cursor": page.cursor,
    }
