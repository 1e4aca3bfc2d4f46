"""Outbound partner webhooks: what is sent, how it is signed, when a failure is retried.

Signing follows Stripe's scheme so partners can reuse what they know: the header
``OTC-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<raw body>")>``. The key is
the whole secret string (``whsec_...``) as UTF-8. The timestamp is signed with the body, so a
captured request cannot be replayed later than the receiver's tolerance.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import json
import re
import secrets
from collections.abc import Iterable
from typing import Annotated, Any
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator

from shared.domain.omittable import Omittable

ORDER_EVENT_TYPES: tuple[str, ...] = (
    "OrderReceived",
    "OrderConfirmed",
    "OrderHeld",
    "OrderRejected",
    "OrderAmended",
    "OrderCancelled",
    "OrderShipped",
)
SIGNATURE_HEADER = "OTC-Signature"
EVENT_ID_HEADER = "OTC-Event-Id"
SECRET_PREFIX = "whsec_"  # noqa: S105 - a prefix, not a secret
SIGNATURE_SCHEME = "v1"
DEFAULT_TOLERANCE_SECONDS = 300

BACKOFF_BASE_SECONDS = 10
BACKOFF_CAP_SECONDS = 15 * 60
MAX_URL_LENGTH = 2048
LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})

# Fields of an event's data a partner does not get: why an order is held is the seller's
# internal credit decision (the customer's e-mail says "under review" for the same reason).
WITHHELD_FIELDS: dict[str, frozenset[str]] = {"OrderHeld": frozenset({"reason"})}

_ULID = re.compile(r"[0-9A-HJKMNP-TV-Z]{26}")


class InvalidWebhookUrlError(ValueError):
    """Not a URL the system will POST to."""


# --- secrets and signatures -------------------------------------------------------------------


def new_secret() -> str:
    return SECRET_PREFIX + secrets.token_urlsafe(32)


def signature(secret: str, timestamp: int, body: bytes) -> str:
    """Hex HMAC-SHA256 of ``"<timestamp>.<body>"`` under the secret."""
    signed = str(timestamp).encode() + b"." + body
    return hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()


def signature_header(secret: str, timestamp: int, body: bytes) -> str:
    return f"t={timestamp},{SIGNATURE_SCHEME}={signature(secret, timestamp, body)}"


def verify(
    secret: str,
    header: str,
    body: bytes,
    *,
    now: int,
    tolerance: int = DEFAULT_TOLERANCE_SECONDS,
) -> bool:
    """Whether ``header`` signs ``body`` under ``secret`` and is at most ``tolerance`` s old.

    Several ``v1`` entries may appear (a receiver may be told of more than one secret while
    rotating); any match is enough. Malformed headers verify as False, never raise.
    """
    timestamp: int | None = None
    candidates: list[str] = []
    for part in header.split(","):
        key, _, value = part.strip().partition("=")
        if key == "t" and value.isdigit():
            timestamp = int(value)
        elif key == SIGNATURE_SCHEME and value:
            candidates.append(value)
    if timestamp is None or not candidates or abs(now - timestamp) > tolerance:
        return False
    expected = signature(secret, timestamp, body)
    return any(hmac.compare_digest(expected, candidate) for candidate in candidates)


# --- what is sent -------------------------------------------------------------------------------


def payload(event_id: str, detail_type: str, occurred_at: str, data: dict[str, Any]) -> bytes:
    """The POST body: ``{id, type, created, data}``, compact JSON, without withheld fields."""
    withheld = WITHHELD_FIELDS.get(detail_type, frozenset())
    shared = {key: value for key, value in data.items() if key not in withheld}
    document = {"id": event_id, "type": detail_type, "created": occurred_at, "data": shared}
    return json.dumps(document, separators=(",", ":"), ensure_ascii=False).encode()


def headers(secret: str, event_id: str, timestamp: int, body: bytes) -> dict[str, str]:
    return {
        "Content-Type": "application/json",
        "User-Agent": "otc-webhooks/1",
        EVENT_ID_HEADER: event_id,
        SIGNATURE_HEADER: signature_header(secret, timestamp, body),
    }


def delivery_id_for(event_id: str) -> str:
    """One delivery per event, found again by a redelivery: derived from the event id.

    Event ids here are ``evt_<ULID>``; the delivery keeps the ULID, so deliveries sort in time.
    """
    suffix = event_id.rpartition("_")[2]
    if _ULID.fullmatch(suffix):
        return f"dlv_{suffix}"
    return "dlv_" + hashlib.sha256(event_id.encode()).hexdigest()[:26].upper()


# --- retries ------------------------------------------------------------------------------------


def backoff_seconds(attempts: int) -> int:
    """How long to wait after the ``attempts``-th failed attempt: 2^attempts x 10 s, <= 15 min."""
    exponent = min(max(attempts, 0), 16)
    return int(min(BACKOFF_BASE_SECONDS * 2**exponent, BACKOFF_CAP_SECONDS))


# --- registration -------------------------------------------------------------------------------


def check_url(url: str, *, allow_loopback: bool) -> str:
    """Accept https URLs to public hosts; http only to loopback, and only when allowed.

    Loopback is for local development: on AWS, 127.0.0.1 is the Lambda runtime's own API, so
    the caller passes ``allow_loopback=False`` there. IP literals in private, link-local or
    reserved ranges are refused (they would reach into the network the function runs in).
    """
    if len(url) > MAX_URL_LENGTH:
        raise InvalidWebhookUrlError(f"the URL is longer than {MAX_URL_LENGTH} characters")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as error:
        raise InvalidWebhookUrlError(f"not a URL: {error}") from None
    host = (parts.hostname or "").lower()
    if parts.scheme not in ("https", "http") or not host:
        raise InvalidWebhookUrlError("the URL must be https://host/...")
    if parts.username is not None or parts.password is not None:
        raise InvalidWebhookUrlError("the URL must not carry credentials")
    if port == 0:
        raise InvalidWebhookUrlError("the URL's port must not be 0")
    loopback = host in LOOPBACK_HOSTS or _is_loopback_ip(host)
    if loopback:
        if not allow_loopback:
            raise InvalidWebhookUrlError("loopback URLs are accepted only on the local stack")
        return url
    if parts.scheme != "https":
        raise InvalidWebhookUrlError("the URL must use https (http only for 127.0.0.1/localhost)")
    if _is_non_public_ip(host):
        raise InvalidWebhookUrlError("the URL must not point at a private or reserved address")
    return url


def _is_loopback_ip(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _is_non_public_ip(host: str) -> bool:
    try:
        return not ipaddress.ip_address(host).is_global
    except ValueError:
        return False  # a host name; what it resolves to is the resolver's business


EventTypes = Annotated[
    list[Annotated[str, StringConstraints(min_length=1, max_length=64)]],
    Field(min_length=1, max_length=len(ORDER_EVENT_TYPES)),
]


class WebhookRequest(BaseModel):
    """``PUT /partners/{partner_id}/webhook``: where to POST, and which order events."""

    model_config = ConfigDict(extra="forbid", strict=True)

    url: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]
    events: Omittable[EventTypes] = None  # every order event when left out

    @field_validator("events")
    @classmethod
    def _known_events(cls, events: list[str] | None) -> list[str] | None:
        if events is None:
            return None
        unknown = sorted(set(events) - set(ORDER_EVENT_TYPES))
        if unknown:
            raise ValueError(f"unknown event types {unknown}; known: {list(ORDER_EVENT_TYPES)}")
        return events

    def event_types(self) -> tuple[str, ...]:
        """The subscribed types in canonical order (all order events when none were named)."""
        return subscribed(self.events or ORDER_EVENT_TYPES)


def subscribed(events: Iterable[str]) -> tuple[str, ...]:
    wanted = set(events)
    return tuple(event for event in ORDER_EVENT_TYPES if event in wanted)
