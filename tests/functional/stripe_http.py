"""Stripe's HTTP exchange, stubbed: the ``stripe`` library runs for real, only the wire is faked.

``RecordedStripe`` is given to the library as ``stripe.default_http_client``: every request the
library would send to api.stripe.com is recorded (method, URL, headers, form body) and answered
with a recorded real Stripe response (stripe_refund_response.json: the Refund object Stripe's
API answers ``POST /v1/refunds`` with, its amount, currency and target set from the request;
stripe_checkout_session_response.json: the Checkout Session object, in the shape Stripe's API
reference documents, that ``POST /v1/checkout/sessions`` answers, its amounts, currency,
metadata and URLs set from the request).
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import pytest
import stripe

REFUND_RESPONSE = Path(__file__).with_name("stripe_refund_response.json")
SESSION_RESPONSE = Path(__file__).with_name("stripe_checkout_session_response.json")


@dataclass
class Sent:
    method: str
    url: str
    headers: dict[str, str]
    form: dict[str, str]


TEST_KEY = "sk_test_51QAcmeRecordedKey"


def recorded_stripe(session: Any, monkeypatch: pytest.MonkeyPatch) -> RecordedStripe:
    """Stripe's API key in SSM where the stack says, and Stripe's HTTP exchange recorded."""
    session.client("ssm").put_parameter(
        Name=os.environ["STRIPE_API_KEY_PARAMETER"],
        Value=TEST_KEY,
        Type="SecureString",
        Overwrite=True,
    )
    recorded = RecordedStripe()
    # Only the HTTP exchange is stubbed: the stripe library builds and reads it for real.
    monkeypatch.setattr(stripe, "default_http_client", recorded)
    return recorded


class RecordedStripe(stripe.HTTPClient):
    """Answers ``POST /v1/refunds`` and ``POST /v1/checkout/sessions`` like Stripe: one object
    per idempotency key."""

    name = "recorded"

    def __init__(self) -> None:
        super().__init__()
        self.sent: list[Sent] = []
        self.refunds: dict[str, dict[str, Any]] = {}
        self.sessions: dict[str, dict[str, Any]] = {}
        self.status = 200

    def request(
        self, method: str, url: str, headers: Any, post_data: Any = None, **_: Any
    ) -> tuple[str, int, dict[str, str]]:
        form = {key: values[0] for key, values in parse_qs(post_data or "").items()}
        sent = Sent(method, url, dict(headers or {}), form)
        self.sent.append(sent)
        if self.status != 200:
            kind = "api_error" if self.status >= 500 else "invalid_request_error"
            error = {"error": {"type": kind, "message": "Refund refused"}}
            return json.dumps(error), self.status, {}
        key = sent.headers.get("Idempotency-Key", "")
        if url.endswith("/v1/checkout/sessions"):
            if key not in self.sessions:
                self.sessions[key] = _session(form, len(self.sessions))
            return json.dumps(self.sessions[key]), 200, {"Request-Id": "req_recorded"}
        if key not in self.refunds:
            refund = json.loads(REFUND_RESPONSE.read_text())
            refund["id"] = f"{refund['id'][:-2]}{len(self.refunds):02d}"
            refund["amount"] = int(form["amount"])
            refund["payment_intent"] = form.get("payment_intent", refund["payment_intent"])
            refund["metadata"] = {
                name[len("metadata[") : -1]: value
                for name, value in form.items()
                if name.startswith("metadata[")
            }
            self.refunds[key] = refund
        return json.dumps(self.refunds[key]), 200, {"Request-Id": "req_recorded"}

    def close(self) -> None:
        return None


def _session(form: dict[str, str], number: int) -> dict[str, Any]:
    """The recorded Checkout Session, as Stripe answers the request ``form``."""
    session = json.loads(SESSION_RESPONSE.read_text())
    session["id"] = f"{session['id'][:-2]}{number:02d}"
    session["url"] = session["url"].replace(SESSION_ID, session["id"])
    lines = [name for name in form if name.endswith("[price_data][unit_amount]")]
    total = sum(int(form[name]) for name in lines)
    session["amount_subtotal"] = session["amount_total"] = total
    session["currency"] = form["line_items[0][price_data][currency]"]
    session["metadata"] = _metadata(form, "metadata")
    for field in ("client_reference_id", "success_url", "cancel_url", "mode"):
        session[field] = form.get(field)
    return session


SESSION_ID = json.loads(SESSION_RESPONSE.read_text())["id"]


def _metadata(form: dict[str, str], prefix: str) -> dict[str, str]:
    return {
        name[len(prefix) + 1 : -1]: value
        for name, value in form.items()
        if name.startswith(f"{prefix}[")
    }
