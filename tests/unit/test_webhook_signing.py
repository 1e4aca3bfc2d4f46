"""Webhook signatures, payloads, delivery ids, backoff and URL rules: pure, no AWS."""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import json
import time
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from infra.wiring import cfn_yaml
from infra.wiring.iam import PERMISSIONS
from shared.domain import webhooks
from shared.domain.webhooks import InvalidWebhookUrlError, WebhookRequest

SECRET = "whsec_test_5f2b0c1d9e8a7b6c5d4e3f2a1b0c9d8e"
BODY = b'{"id":"evt_1","type":"OrderConfirmed","created":"2026-11-23T10:15:00.000Z","data":{}}'
NOW = 1_795_430_100


# --- signing ------------------------------------------------------------------------------------


def test_the_signature_is_stripes_scheme_hmac_sha256_of_timestamp_dot_body():
    # Given a known secret, timestamp and body
    expected = hmac.new(SECRET.encode(), f"{NOW}.".encode() + BODY, hashlib.sha256).hexdigest()

    # When
    header = webhooks.signature_header(SECRET, NOW, BODY)

    # Then
    assert header == f"t={NOW},v1={expected}"
    assert len(expected) == 64


def test_a_fresh_signature_verifies():
    header = webhooks.signature_header(SECRET, NOW, BODY)
    assert webhooks.verify(SECRET, header, BODY, now=NOW + 10)


@pytest.mark.parametrize(
    ("secret", "body", "now"),
    [
        ("whsec_another", BODY, NOW),  # wrong secret
        (SECRET, BODY + b" ", NOW),  # body changed by a byte
        (SECRET, BODY.replace(b"evt_1", b"evt_2"), NOW),  # body tampered
        (SECRET, BODY, NOW + webhooks.DEFAULT_TOLERANCE_SECONDS + 1),  # replayed too late
        (SECRET, BODY, NOW - webhooks.DEFAULT_TOLERANCE_SECONDS - 1),  # from the future
    ],
)
def test_anything_else_does_not_verify(secret, body, now):
    header = webhooks.signature_header(SECRET, NOW, BODY)
    assert not webhooks.verify(secret, header, body, now=now)


def test_the_timestamp_is_signed_with_the_body():
    # Given a captured request whose timestamp is moved forward to pass the tolerance
    signature = webhooks.signature(SECRET, NOW, BODY)
    forged = f"t={NOW + 3600},v1={signature}"

    # Then it does not verify at the later time
    assert not webhooks.verify(SECRET, forged, BODY, now=NOW + 3600)


@pytest.mark.parametrize(
    "header",
    ["", "garbage", f"t={NOW}", "v1=abc", f"t=abc,v1={'0' * 64}", f"t={NOW},v0={'0' * 64}", ",,,"],
)
def test_malformed_headers_do_not_verify_and_do_not_raise(header):
    assert not webhooks.verify(SECRET, header, BODY, now=NOW)


def test_any_of_several_v1_signatures_may_match():
    good = webhooks.signature(SECRET, NOW, BODY)
    header = f"t={NOW},v1={'0' * 64},v1={good}"
    assert webhooks.verify(SECRET, header, BODY, now=NOW)


@given(body=st.binary(max_size=512), timestamp=st.integers(min_value=0, max_value=2**40))
def test_sign_then_verify_round_trips(body, timestamp):
    header = webhooks.signature_header(SECRET, timestamp, body)
    assert webhooks.verify(SECRET, header, body, now=timestamp)
    assert not webhooks.verify(SECRET + "x", header, body, now=timestamp)


def test_secrets_are_prefixed_long_and_unique():
    secrets = {webhooks.new_secret() for _ in range(100)}
    assert len(secrets) == 100
    assert all(s.startswith("whsec_") and len(s) >= 6 + 43 for s in secrets)


def test_headers_name_the_event_and_sign_the_body():
    headers = webhooks.headers(SECRET, "evt_1", NOW, BODY)
    assert headers["OTC-Event-Id"] == "evt_1"
    assert headers["Content-Type"] == "application/json"
    assert webhooks.verify(SECRET, headers["OTC-Signature"], BODY, now=NOW)


# --- payload and delivery ids ---------------------------------------------------------------------


def test_the_payload_is_id_type_created_and_the_data():
    data = {"id": "ord_1", "status": "confirmed", "total": {"amount": "1.00", "currency": "EUR"}}
    body = webhooks.payload("evt_1", "OrderConfirmed", "2026-11-23T10:15:00.000Z", data)
    assert json.loads(body) == {
        "id": "evt_1",
        "type": "OrderConfirmed",
        "created": "2026-11-23T10:15:00.000Z",
        "data": data,
    }
    assert b" " not in body  # compact: what is signed is exactly what is sent


def test_a_held_orders_reason_is_withheld_but_a_cancellations_is_not():
    data = {"id": "ord_1", "reason": "credit limit exceeded"}
    held = json.loads(webhooks.payload("evt_1", "OrderHeld", "t", data))
    cancelled = json.loads(webhooks.payload("evt_2", "OrderCancelled", "t", data))
    assert "reason" not in held["data"]
    assert cancelled["data"]["reason"] == "credit limit exceeded"
    assert data == {"id": "ord_1", "reason": "credit limit exceeded"}  # the input is untouched


def test_the_delivery_id_follows_from_the_event_id():
    assert (
        webhooks.delivery_id_for("evt_01KAT3ZPD9Y3H8K1C6P0S4T2ZA")
        == "dlv_01KAT3ZPD9Y3H8K1C6P0S4T2ZA"
    )
    other = webhooks.delivery_id_for("some-gateway-id")
    assert other == webhooks.delivery_id_for("some-gateway-id")
    assert other != webhooks.delivery_id_for("some-gateway-id2")
    assert other.startswith("dlv_") and len(other) == 30


# --- backoff ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("attempts", "seconds"),
    [
        (0, 10),
        (1, 20),
        (2, 40),
        (3, 80),
        (4, 160),
        (5, 320),
        (6, 640),
        (7, 900),
        (8, 900),
        (50, 900),
    ],
)
def test_backoff_doubles_from_ten_seconds_and_stops_at_fifteen_minutes(attempts, seconds):
    assert webhooks.backoff_seconds(attempts) == seconds


def test_backoff_never_goes_negative():
    assert webhooks.backoff_seconds(-3) == 10


def test_the_consumer_gives_up_when_the_queue_dead_letters():
    """deliver.MAX_RECEIVES must equal the queue's maxReceiveCount, or next_attempt lies."""
    from functions.webhooks.deliver import MAX_RECEIVES

    resources = cfn_yaml.load(PERMISSIONS.parents[1] / "resources.yaml")
    queue = resources["Resources"]["PartnerWebhooksQueue"]["Properties"]
    assert queue["RedrivePolicy"]["maxReceiveCount"] == MAX_RECEIVES == 8


# --- URLs and the registration body ---------------------------------------------------------------


PUBLIC = ipaddress.ip_address("93.184.215.14")


def _check(url: str, *addresses: str, allow_loopback: bool = False) -> None:
    resolved = [ipaddress.ip_address(address) for address in addresses]
    webhooks.check_destination(webhooks.parse_url(url), resolved, allow_loopback=allow_loopback)


@pytest.mark.parametrize(
    ("url", "host", "port", "authority", "target"),
    [
        ("https://hooks.acme.example/otc", "hooks.acme.example", 443, "hooks.acme.example", "/otc"),
        (
            "https://Hooks.Acme.example:8443/otc?tenant=7",
            "hooks.acme.example",
            8443,
            "Hooks.Acme.example:8443",
            "/otc?tenant=7",
        ),
        ("https://[2606:2800::1]/", "2606:2800::1", 443, "[2606:2800::1]", "/"),
        ("http://127.0.0.1:8080", "127.0.0.1", 8080, "127.0.0.1:8080", "/"),
    ],
)
def test_a_url_is_taken_apart_into_what_is_resolved_and_what_is_sent(
    url, host, port, authority, target
):
    # When the URL is parsed
    parsed = webhooks.parse_url(url)
    # Then the host is resolved and checked by TLS, the authority goes in the Host header
    assert (parsed.host, parsed.port, parsed.authority, parsed.target) == (
        host,
        port,
        authority,
        target,
    )


@pytest.mark.parametrize(
    "url",
    [
        "ftp://hooks.acme.example/otc",
        "file:///etc/passwd",
        "https:///no-host",
        "https://user:secret@hooks.acme.example/",
        "https://user@hooks.acme.example/",
        "https://@hooks.acme.example/",
        "https://hooks.acme.example:0/",
        "https://hooks.acme.example:99999/",
        "https://hooks.acme.example/" + "x" * 2048,
        "",
    ],
)
def test_urls_that_are_not_plain_http_s_to_a_host_are_refused_before_any_lookup(url):
    with pytest.raises(InvalidWebhookUrlError):
        webhooks.parse_url(url)


def test_https_to_public_addresses_is_accepted():
    _check(
        "https://hooks.acme.example/otc", "93.184.215.14", "2606:2800:21f:cb07:6820:80da:af6b:8b2c"
    )


@pytest.mark.parametrize(
    ("address", "reason"),
    [
        ("127.0.0.1", "loopback"),
        ("127.8.9.10", "loopback"),
        ("::1", "loopback"),
        ("0.0.0.0", "unspecified"),
        ("::", "unspecified"),
        ("10.0.0.1", "private"),
        ("172.16.0.1", "private"),
        ("192.168.1.1", "private"),
        ("fd12:3456::1", "private"),
        ("100.64.0.1", "carrier-grade NAT"),
        ("100.127.255.254", "carrier-grade NAT"),
        ("169.254.169.254", "metadata"),
        ("169.254.170.2", "metadata"),
        ("fd00:ec2::254", "metadata"),
        ("169.254.1.1", "link-local"),
        ("fe80::1", "link-local"),
        ("224.0.0.251", "multicast"),
        ("239.255.255.250", "multicast"),
        ("ff0e::1", "multicast"),
        ("240.0.0.1", "reserved"),
        ("255.255.255.255", "reserved"),
        ("192.0.2.10", "private"),  # documentation (TEST-NET-1)
        ("198.18.0.1", "private"),  # benchmarking
        ("::ffff:127.0.0.1", "loopback"),  # IPv4-mapped
        ("::ffff:169.254.169.254", "metadata"),
        ("::ffff:10.0.0.1", "private"),
        ("::7f00:1", "loopback"),  # IPv4-compatible
        ("::a00:1", "private"),
        ("2002:7f00:1::", "loopback"),  # 6to4 around 127.0.0.1
        ("2002:a9fe:a9fe::", "metadata"),  # 6to4 around 169.254.169.254
        ("64:ff9b::a00:1", "private"),  # NAT64 around 10.0.0.1
    ],
)
def test_addresses_inside_the_network_are_refused_with_their_reason(address, reason):
    # Given an address a host could resolve to
    # When it is judged
    refusal = webhooks.address_refusal(ipaddress.ip_address(address))
    # Then it is refused, saying why
    assert refusal is not None
    assert reason in refusal
    with pytest.raises(InvalidWebhookUrlError, match=reason):
        _check("https://hooks.acme.example/", address)


def test_one_bad_address_among_good_ones_refuses_the_url():
    with pytest.raises(InvalidWebhookUrlError, match="private"):
        _check("https://hooks.acme.example/", "93.184.215.14", "10.0.0.1")


def test_a_host_without_addresses_is_refused():
    with pytest.raises(InvalidWebhookUrlError, match="does not resolve"):
        _check("https://hooks.acme.example/")


def test_plain_http_is_refused_to_public_hosts():
    with pytest.raises(InvalidWebhookUrlError, match="https"):
        _check("http://hooks.acme.example/otc", "93.184.215.14")


@pytest.mark.parametrize(
    ("url", "address"),
    [
        ("http://127.0.0.1:8080/hooks", "127.0.0.1"),
        ("http://localhost/hooks", "127.0.0.1"),
        ("http://[::1]:9000/", "::1"),
        ("https://localhost/hooks", "::1"),
    ],
)
def test_loopback_is_accepted_only_where_allowed(url, address):
    _check(url, address, allow_loopback=True)
    with pytest.raises(InvalidWebhookUrlError, match="loopback"):
        _check(url, address, allow_loopback=False)


def test_allowing_loopback_allows_nothing_else():
    with pytest.raises(InvalidWebhookUrlError, match="private"):
        _check("http://localhost/hooks", "127.0.0.1", "10.0.0.1", allow_loopback=True)
    with pytest.raises(InvalidWebhookUrlError, match="https"):
        _check("http://hooks.acme.example/", "93.184.215.14", allow_loopback=True)


def test_a_request_without_events_subscribes_to_every_order_event():
    request = WebhookRequest.model_validate({"url": "https://hooks.acme.example/otc"})
    assert request.event_types() == webhooks.ORDER_EVENT_TYPES


def test_subscribed_events_come_back_in_canonical_order_without_duplicates():
    request = WebhookRequest.model_validate(
        {"url": "https://x.example", "events": ["OrderShipped", "OrderReceived", "OrderShipped"]}
    )
    assert request.event_types() == ("OrderReceived", "OrderShipped")


@pytest.mark.parametrize(
    "body",
    [
        {"url": "https://x.example", "events": ["OrderInvoiced"]},
        {"url": "https://x.example", "events": []},
        {"url": "https://x.example", "events": "OrderShipped"},
        {"url": "https://x.example", "secret": "mine"},
        {"url": 42},
        {},
    ],
)
def test_bad_registration_bodies_are_refused(body):
    with pytest.raises(ValidationError):
        WebhookRequest.model_validate(body)


def test_the_readme_verification_snippet_verifies_what_we_sign():
    # Given the snippet partners copy from docs/notifications.md
    from pathlib import Path

    readme = (Path(__file__).resolve().parents[2] / "docs" / "notifications.md").read_text()
    [snippet] = [
        block.split("\n", 1)[1]
        for block in readme.split("```")
        if block.startswith("python\n") and "def verify(secret: str, signature_header" in block
    ]
    namespace: dict[str, Any] = {}
    exec(snippet, namespace)
    partner_verify = namespace["verify"]

    # When we sign a body now
    now = int(time.time())
    header = webhooks.signature_header(SECRET, now, BODY)

    # Then the partner's check accepts it, and refuses tampering, other secrets and old requests
    assert partner_verify(SECRET, header, BODY)
    assert not partner_verify(SECRET, header, BODY + b"x")
    assert not partner_verify("whsec_other", header, BODY)
    assert not partner_verify(SECRET, webhooks.signature_header(SECRET, now - 600, BODY), BODY)
    assert not partner_verify(SECRET, "garbage", BODY)


def test_a_money_event_shares_only_its_own_fields_and_allocations_in_short():
    data = {
        "id": "pay_1",
        "customer_id": "cus_1",
        "currency": "EUR",
        "amount": {"amount": "10.00", "currency": "EUR"},
        "payer_account": "DE89370400440532013000",
        "remittance": "INV-1",
        "decision": {"basis": "auto", "evidence": ["remittance"]},
        "allocated": [
            {
                "id": "alc_1",
                "invoice_id": "inv_1",
                "invoice_number": "INV-1",
                "amount": {"amount": "10.00", "currency": "EUR"},
                "evidence": ["remittance names INV-1"],
                "confidence": "0.98",
            }
        ],
    }
    shared = webhooks.shared_data("PaymentApplied", data)
    assert shared == {
        "id": "pay_1",
        "customer_id": "cus_1",
        "currency": "EUR",
        "amount": {"amount": "10.00", "currency": "EUR"},
        "allocated": [
            {
                "id": "alc_1",
                "invoice_id": "inv_1",
                "invoice_number": "INV-1",
                "amount": {"amount": "10.00", "currency": "EUR"},
            }
        ],
    }


def test_money_events_are_subscribed_by_name_and_listed_after_order_events():
    request = webhooks.WebhookRequest.model_validate(
        {"url": "https://hooks.example/otc", "events": ["CreditApplied", "OrderShipped"]}
    )
    assert request.event_types() == ("OrderShipped", "CreditApplied")
    every = webhooks.WebhookRequest.model_validate(
        {"url": "https://hooks.example/otc", "events": list(webhooks.EVENT_TYPES)}
    )
    assert every.event_types() == webhooks.EVENT_TYPES
    assert set(webhooks.MONEY_EVENT_TYPES).isdisjoint(webhooks.ORDER_EVENT_TYPES)
    for fields in webhooks.MONEY_EVENT_FIELDS.values():
        assert "customer_id" in fields and "currency" in fields
