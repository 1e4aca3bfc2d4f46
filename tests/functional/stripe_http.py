"""Stripe's HTTP exchange, stubbed: the ``stripe`` library runs for real, only the wire is faked.

``RecordedStripe`` is given to the library as ``stripe.default_http_client``: every request the
library would send to api.stripe.com is recorded (method, URL, headers, form body) and answered
with a recorded real Stripe response (stripe_refund_response.json: the Refund object Stripe's
API answers ``POST /v1/refunds`` with), its amount, currency and target set from the request.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import stripe

REFUND_RESPONSE = Path(__file__).with_name("stripe_refund_response.json")


@dataclass
class Sent:
    method: str
    url: str
    headers: dict[str, str]
    form: dict[str, str]


class RecordedStripe(stripe.HTTPClient):
    """Answers ``POST /v1/refunds`` like Stripe: one refund per idempotency key."""

    name = "recorded"

    def __init__(self) -> None:
        super().__init__()
        self.sent: list[Sent] = []
        self.refunds: dict[str, dict[str, Any]] = {}
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
