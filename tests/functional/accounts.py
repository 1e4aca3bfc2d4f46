"""Helpers for the accounts tests: calling the API as someone, and reading what was written."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from typing import Any

from chalice.test import Client

from tests.functional.conftest import ADMIN_KEY, World

PROBLEM = "application/problem+json"
SEED_ENTITIES = {"Customer", "CustomerCredit", "Principal", "ApiKey"}


@dataclass
class Answer:
    status: int
    body: Any
    headers: dict[str, str]


def call(
    client: Client,
    method: str,
    path: str,
    *,
    key: str | None = ADMIN_KEY,
    body: Any = None,
    idempotency_key: str | None = None,
) -> Answer:
    """One request; a POST gets a fresh Idempotency-Key unless one is given."""
    headers = {"Content-Type": "application/json"}
    if key is not None:
        headers["X-Api-Key"] = key
    if method == "POST":
        headers["Idempotency-Key"] = idempotency_key or str(uuid.uuid4())
    raw = body if isinstance(body, (bytes, str)) or body is None else json.dumps(body)
    response = getattr(client.http, method.lower())(path, headers=headers, body=raw)
    parsed = json.loads(response.body) if response.body else None
    return Answer(response.status_code, parsed, dict(response.headers))


def customer_body(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "legal_name": "Initech SARL",
        "billing_email": "compta@initech.example",
        "currency": "EUR",
        "billing_address": {
            "line1": "12 rue de la Paix",
            "city": "Paris",
            "postal_code": "75002",
            "country": "FR",
        },
        "payment_terms": {"kind": "net", "net_days": 45},
    }
    body.update(overrides)
    return body


def new_staff(client: Client, role: str, name: str | None = None) -> tuple[str, str]:
    """(staff id, key secret) of a staff member the admin registers through the API."""
    answer = call(client, "POST", "/staff", body={"name": name or f"{role} user", "role": role})
    assert answer.status == 201, answer.body
    return answer.body["staff"]["id"], answer.body["api_key"]["secret"]


def create_customer(client: Client, **overrides: Any) -> dict[str, Any]:
    answer = call(client, "POST", "/customers", body=customer_body(**overrides))
    assert answer.status == 201, answer.body
    return answer.body


def events(world: World, detail_type: str | None = None) -> list[dict[str, Any]]:
    return [
        item
        for item in world.table_items()
        if item.get("entity") == "Event" and detail_type in (None, item["detail_type"])
    ]


def written(world: World) -> list[dict[str, Any]]:
    """Every item, for before/after comparisons (nothing written = the same list)."""
    return sorted(world.table_items(), key=lambda item: (item["pk"], item["sk"]))


def item(world: World, pk: str, sk: str) -> dict[str, Any] | None:
    return next((i for i in world.table_items() if (i["pk"], i["sk"]) == (pk, sk)), None)
