"""A fresh moto world per test, deployed from infra/resources.yaml, with the app and the pump."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import boto3
import pytest
from chalice.test import Client
from moto import mock_aws

import app as app_module
from infra.local import stack
from infra.local.pump import EventPump
from infra.local.seed import DemoKeys, seed
from shared.adapters import aws
from shared.config import settings
from shared.http import idempotency

PARTNER_KEY = "otc_test_partner_key_0123456789abcdef"
ADMIN_KEY = "otc_test_admin_key_0123456789abcdef"
OTHER_PARTNER_KEY = "otc_test_other_partner_0123456789"


def reset_process_state() -> None:
    aws.reset()
    settings.cache_clear()
    idempotency._persistence.cache_clear()


@dataclass
class World:
    session: boto3.session.Session
    outputs: dict[str, str]
    queues: dict[str, str]
    pump: EventPump
    keys: DemoKeys

    def table_items(self) -> list[dict[str, Any]]:
        from shared.store.table import from_dynamo

        pages = (
            self.session.client("dynamodb")
            .get_paginator("scan")
            .paginate(TableName=self.outputs["TableName"])
        )
        return [from_dynamo(item) for page in pages for item in page["Items"]]

    def queue_depth(self, logical_id: str) -> int:
        attributes = self.session.client("sqs").get_queue_attributes(
            QueueUrl=self.queues[logical_id],
            AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
        )["Attributes"]
        return int(attributes["ApproximateNumberOfMessages"]) + int(
            attributes["ApproximateNumberOfMessagesNotVisible"]
        )


@pytest.fixture
def world(monkeypatch: pytest.MonkeyPatch) -> Iterator[World]:
    with mock_aws():
        reset_process_state()
        session = boto3.session.Session(region_name="us-east-1")
        outputs = stack.deploy(session)
        for name, value in stack.environment(outputs).items():
            monkeypatch.setenv(name, value)
        reset_process_state()
        queues = stack.queue_urls(session)
        keys = seed(PARTNER_KEY, ADMIN_KEY)
        pump = EventPump(app_module, session, queues, outputs["TableStreamArn"])
        yield World(session, outputs, queues, pump, keys)
    reset_process_state()


@pytest.fixture
def client(world: World) -> Iterator[Client]:
    with Client(app_module.app, stage_name="dev") as test_client:
        yield test_client


def order_body(customer_id: Any = "cus_acme", **overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "customer_id": customer_id,
        "currency": "EUR",
        "purchase_order": "PO-4711",
        "lines": [
            {"sku": "WIDGET-1", "quantity": 3, "unit_price": "19.99"},
            {"sku": "GADGET-2", "quantity": 1, "unit_price": "0.125"},
        ],
    }
    body.update(overrides)
    return body


def post_order(
    client: Client, body: Any, *, key: str | None = PARTNER_KEY, idempotency_key: str | None = None
) -> Any:
    headers = {"Content-Type": "application/json"}
    if key is not None:
        headers["X-Api-Key"] = key
    headers["Idempotency-Key"] = idempotency_key or str(uuid.uuid4())
    raw = body if isinstance(body, (bytes, str)) else json.dumps(body)
    return client.http.post("/orders", headers=headers, body=raw)
