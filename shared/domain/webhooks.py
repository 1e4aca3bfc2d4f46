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
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Annotated, Any
from urllib.parse import urlsplit

from pydantic import ConfigDict, Field, StringConstraints, field_validator

from shared.domain.json_schema import Keywords
from shared.domain.omittable import Omittable
from shared.domain.text import SingleLine
from shared.model import Model

ORDER_EVENT_TYPES: tuple[str, ...] = (
    "OrderReceived",
    "OrderConfirmed",
    "OrderHeld",
    "OrderRejected",
    "OrderAmended",
    "OrderCancelled",
    "OrderShipped",
    "OrderClosed",
)

# Money events a partner may subscribe to, each with the fields of its event's data a partner
# gets (everything else stays inside: the matcher's evidence, the payer's bank account, the
# seller's and buyer's parties, document lines). Each names the customer, the document or
# payment, the amount and the currency. They go to every subscribed partner bound to the
# event's customer (each emitter puts these fields in its event's data).
INVOICE_FIELDS = (
    "id", "kind", "number", "customer_id", "order_id", "purchase_order", "currency",
    "issued_on", "due_on", "net_total", "tax_total", "total", "amount_due", "status",
    "payment_reference", "credited_invoice_id", "credited_invoice_number",
)  # fmt: skip
PAYMENT_FIELDS = ("id", "customer_id", "method", "currency", "amount", "applied", "unapplied")
APPLIED_TO_INVOICE = ("customer_id", "invoice_id", "invoice_number", "currency", "amount")
MONEY_EVENT_FIELDS: dict[str, tuple[str, ...]] = {
    "InvoiceIssued": INVOICE_FIELDS,
    "CreditNoteIssued": INVOICE_FIELDS,
    "PaymentApplied": (*PAYMENT_FIELDS, "allocated"),
    "PaymentRefunded": (*PAYMENT_FIELDS, "status", "refund", "unapplied_allocations", "reason"),
    "WriteOffPosted": ("write_off_id", *APPLIED_TO_INVOICE, "reason"),
    "WriteOffReversed": ("write_off_id", *APPLIED_TO_INVOICE, "reason"),
    "CreditApplied": ("credit_id", *APPLIED_TO_INVOICE),
    "CreditRefunded": ("credit_id", "customer_id", "currency", "amount", "refund_id", "method"),
}
MONEY_EVENT_TYPES: tuple[str, ...] = tuple(MONEY_EVENT_FIELDS)

# Case events (a customer's question, request or dispute: opened, answered, resolved), each with
# what the customer sees of the case in the portal: not its owner, contact or who worked on it.
CASE_FIELDS = (
    "case_id", "number", "customer_id", "kind", "subject", "priority", "status", "channel",
    "opened_at", "due_at", "first_response_at", "resolved_at", "request_type", "invoice_id",
    "invoice_number", "reason", "disputed_amount", "currency", "lines",
)  # fmt: skip
CASE_EVENT_FIELDS: dict[str, tuple[str, ...]] = {
    "CaseOpened": CASE_FIELDS,
    "CaseAnswered": (*CASE_FIELDS, "message"),
    "CaseResolved": (*CASE_FIELDS, "resolution"),
}
CASE_EVENT_TYPES: tuple[str, ...] = tuple(CASE_EVENT_FIELDS)
# Money and case events go to every subscribed partner bound to the event's customer.
CUSTOMER_EVENT_FIELDS: dict[str, tuple[str, ...]] = {**MONEY_EVENT_FIELDS, **CASE_EVENT_FIELDS}
CUSTOMER_EVENT_TYPES: tuple[str, ...] = tuple(CUSTOMER_EVENT_FIELDS)
EVENT_TYPES: tuple[str, ...] = ORDER_EVENT_TYPES + CUSTOMER_EVENT_TYPES
# Allocation lists (applied, or taken back by a refund) as a partner sees each allocation
ALLOCATION_LISTS = frozenset({"allocated", "unapplied_allocations"})
ALLOCATION_FIELDS = ("id", "invoice_id", "invoice_number", "amount", "discount")
# Objects inside a case event, as a partner sees them (who answered or resolved stays inside)
NESTED_FIELDS: dict[str, tuple[str, ...]] = {
    "message": ("at", "from", "text"),
    "resolution": ("outcome", "note", "credit_note"),
}
SIGNATURE_HEADER = "OTC-Signature"
EVENT_ID_HEADER = "OTC-Event-Id"
SECRET_PREFIX = "whsec_"  # noqa: S105 - a prefix, not a secret
SIGNATURE_SCHEME = "v1"
DEFAULT_TOLERANCE_SECONDS = 300

BACKOFF_BASE_SECONDS = 10
BACKOFF_CAP_SECONDS = 15 * 60
MAX_URL_LENGTH = 2048
METADATA_ADDRESSES = frozenset(
    ipaddress.ip_address(address)
    for address in ("169.254.169.254", "169.254.170.2", "fd00:ec2::254", "fd00:ec2::23")
)
CARRIER_GRADE_NAT = ipaddress.ip_network("100.64.0.0/10")
IPV4_COMPATIBLE = ipaddress.ip_network("::/96")
NAT64 = ipaddress.ip_network("64:ff9b::/96")

# Fields of an event's data a partner does not get: why an order is held is the seller's
# internal credit decision (the customer's e-mail says "under review" for the same reason).
WITHHELD_FIELDS: dict[str, frozenset[str]] = {"OrderHeld": frozenset({"reason"})}

_ULID = re.compile(r"[0-9A-HJKMNP-TV-Z]{26}")

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


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
    """The POST body: ``{id, type, created, data}``, compact JSON, with what a partner gets."""
    document = {
        "id": event_id,
        "type": detail_type,
        "created": occurred_at,
        "data": shared_data(detail_type, data),
    }
    return json.dumps(document, separators=(",", ":"), ensure_ascii=False).encode()


def shared_data(detail_type: str, data: dict[str, Any]) -> dict[str, Any]:
    """What of an event's data a partner gets: a money or case event's own fields, an order
    event's data without its withheld fields."""
    fields = CUSTOMER_EVENT_FIELDS.get(detail_type)
    if fields is not None:
        return {key: _shared_value(key, data[key]) for key in fields if key in data}
    withheld = WITHHELD_FIELDS.get(detail_type, frozenset())
    return {key: value for key, value in data.items() if key not in withheld}


def _shared_value(key: str, value: Any) -> Any:
    if key in ALLOCATION_LISTS and isinstance(value, list):
        return [
            {field: entry[field] for field in ALLOCATION_FIELDS if field in entry}
            for entry in value
            if isinstance(entry, dict)
        ]
    if key in NESTED_FIELDS and isinstance(value, dict):
        return {field: value[field] for field in NESTED_FIELDS[key] if field in value}
    return value


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


# --- where deliveries may go -------------------------------------------------------------------


@dataclass(frozen=True)
class WebhookUrl:
    """A webhook URL taken apart: what to resolve, what to connect to, what to ask for."""

    url: str
    scheme: str
    host: str  # lower case, without brackets; what TLS checks the certificate against
    port: int
    authority: str  # the Host header: the URL's host[:port] as written
    target: str  # path and query, as sent on the request line


def parse_url(url: str) -> WebhookUrl:
    """Take an http(s) URL apart, refusing credentials, port 0 and anything but a host name."""
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
    if "@" in parts.netloc:
        raise InvalidWebhookUrlError("the URL must not carry credentials")
    if port == 0:
        raise InvalidWebhookUrlError("the URL's port must not be 0")
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return WebhookUrl(
        url=url,
        scheme=parts.scheme,
        host=host,
        port=port or (443 if parts.scheme == "https" else 80),
        authority=parts.netloc,
        target=target,
    )


def check_destination(
    url: WebhookUrl, addresses: Sequence[IPAddress], *, allow_loopback: bool
) -> None:
    """Refuse the URL unless every address its host resolved to is public (or allowed loopback).

    One bad address is enough to refuse: the connection may go to any of them. Loopback is for
    the local stack only (on AWS, 127.0.0.1 is the Lambda runtime's own API); plain http is
    accepted only there, to loopback, for a receiver without a certificate.
    """
    if not addresses:
        raise InvalidWebhookUrlError(f"the host {url.host} does not resolve")
    loopback = all(_is_loopback(address) for address in addresses)
    for address in addresses:
        if allow_loopback and _is_loopback(address):
            continue
        reason = address_refusal(address)
        if reason:
            raise InvalidWebhookUrlError(f"the host {url.host} resolves to {reason} ({address})")
    if url.scheme != "https" and not (loopback and allow_loopback):
        raise InvalidWebhookUrlError("the URL must use https")


def address_refusal(address: IPAddress) -> str | None:
    """Why a POST must not go to ``address``, or None when it is a public unicast address.

    IPv6 forms that carry an IPv4 address (mapped, compatible, 6to4, Teredo, NAT64) are judged
    by the IPv4 address too: ``::ffff:127.0.0.1`` reaches loopback as surely as ``127.0.0.1``.
    """
    for candidate in (*_embedded_ipv4(address), address):
        if candidate in METADATA_ADDRESSES:
            return "a cloud metadata service"
        reason = _non_public(candidate)
        if reason:
            return reason
    return None


def _non_public(address: IPAddress) -> str | None:
    return next((reason for test, reason in _NON_PUBLIC if test(address)), None)


# In order: the first that holds names the address (::1 is reserved as well as loopback).
_NON_PUBLIC: tuple[tuple[Callable[[IPAddress], bool], str], ...] = (
    (lambda address: address.is_loopback, "a loopback address"),
    (lambda address: address.is_unspecified, "the unspecified address"),
    (lambda address: address.is_link_local, "a link-local address"),
    (lambda address: address.is_multicast, "a multicast address"),
    (lambda address: address in CARRIER_GRADE_NAT, "a carrier-grade NAT address"),
    (lambda address: address.is_reserved, "a reserved address"),
    (lambda address: address.is_private, "a private address"),
    (lambda address: not address.is_global, "a non-global address"),
)


def _embedded_ipv4(address: IPAddress) -> tuple[ipaddress.IPv4Address, ...]:
    if not isinstance(address, ipaddress.IPv6Address):
        return ()
    embedded = [address.ipv4_mapped, address.sixtofour, address.teredo and address.teredo[1]]
    if (address in IPV4_COMPATIBLE and int(address) > 1) or address in NAT64:
        embedded.append(ipaddress.IPv4Address(int(address) & 0xFFFFFFFF))
    return tuple(item for item in embedded if item)


def _is_loopback(address: IPAddress) -> bool:
    return address.is_loopback or any(item.is_loopback for item in _embedded_ipv4(address))


EventTypes = Annotated[
    list[Annotated[str, StringConstraints(min_length=1, max_length=64)]],
    Field(min_length=1, max_length=len(EVENT_TYPES)),
    Keywords(items={"type": "string", "enum": list(EVENT_TYPES)}),  # what _known_events admits
]


class WebhookRequest(Model):
    """``PUT /partners/{partner_id}/webhook``: where to POST, and which events (order events of
    the partner's orders, money and case events of its customers)."""

    model_config = ConfigDict(extra="forbid", strict=True)

    url: Annotated[str, SingleLine(max_length=MAX_URL_LENGTH), Keywords(format="uri")]
    events: Omittable[EventTypes] = None  # every order event when left out

    @field_validator("events")
    @classmethod
    def _known_events(cls, events: list[str] | None) -> list[str] | None:
        if events is None:
            return None
        unknown = sorted(set(events) - set(EVENT_TYPES))
        if unknown:
            raise ValueError(f"unknown event types {unknown}; known: {list(EVENT_TYPES)}")
        return events

    def event_types(self) -> tuple[str, ...]:
        """The subscribed types in canonical order (all order events when none were named)."""
        return subscribed(self.events or ORDER_EVENT_TYPES)


def subscribed(events: Iterable[str]) -> tuple[str, ...]:
    wanted = set(events)
    return tuple(event for event in EVENT_TYPES if event in wanted)
