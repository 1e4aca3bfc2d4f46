"""A fresh moto world per test, deployed from infra/resources.yaml, with the app and the pump."""

from __future__ import annotations

import json
import os
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any
from unittest import mock

import boto3
import pytest
from chalice.test import Client
from moto import mock_aws

import app as app_module
from infra.local import stack
from infra.local.moto_request_tokens import honoured_request_tokens
from infra.local.offline import ADMIN_KEY, PARTNER_KEY, deploy_and_seed, reset_process_state
from infra.local.pump import EventPump
from infra.local.seed import demo_order

__all__ = ["ADMIN_KEY", "PARTNER_KEY", "World", "order_body", "post_order"]


@dataclass
class World:
    session: boto3.session.Session
    outputs: dict[str, str]
    queues: dict[str, str]
    pump: EventPump
    seeded: frozenset[tuple[str, str]] = frozenset()

    def written(self) -> list[dict[str, Any]]:
        """Every item written since the world was seeded (what a test's requests changed)."""
        return [item for item in self.table_items() if (item["pk"], item["sk"]) not in self.seeded]

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


@contextmanager
def opened_world() -> Iterator[World]:
    """A moto world deployed from infra/resources.yaml and seeded, with the app's event pump."""
    # the stack's variables go with the world; moto answers a re-sent transaction as DynamoDB does
    with mock.patch.dict(os.environ), mock_aws(), honoured_request_tokens():
        reset_process_state()
        session = boto3.session.Session(region_name=stack.REGION)
        deployment = deploy_and_seed(session)
        pump = EventPump(
            app_module, session, deployment.queues, deployment.outputs["TableStreamArn"]
        )
        world = World(session, deployment.outputs, deployment.queues, pump)
        world.seeded = frozenset((item["pk"], item["sk"]) for item in world.table_items())
        yield world
    reset_process_state()


@pytest.fixture
def world() -> Iterator[World]:
    with opened_world() as world:
        yield world


@pytest.fixture
def serializable_transactions(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make moto isolate transactions as DynamoDB does, for tests that write from threads.

    In-process moto checks a transaction's conditions and rolls a failed one back to a snapshot
    without any lock, so concurrent transactions corrupt each other (moto's race, not the
    code's). Serialising them keeps every condition real; reads stay concurrent.
    """
    from moto.dynamodb.models import DynamoDBBackend

    from shared.adapters import aws

    isolated = threading.Lock()
    transact_write_items = DynamoDBBackend.transact_write_items

    def serializable(backend: DynamoDBBackend, transact_items: Any) -> None:
        with isolated:
            transact_write_items(backend, transact_items)

    monkeypatch.setattr(DynamoDBBackend, "transact_write_items", serializable)
    aws.client("dynamodb")  # create the client before any thread: creation is not thread-safe


@pytest.fixture
def client(world: World) -> Iterator[Client]:
    with Client(app_module.app, stage_name="dev") as test_client:
        yield test_client


def order_body(customer_id: Any = "cus_acme", **overrides: Any) -> dict[str, Any]:
    return demo_order(customer_id=customer_id, **overrides)


def post_order(
    client: Client, body: Any, *, key: str | None = PARTNER_KEY, idempotency_key: str | None = None
) -> Any:
    headers = {"Content-Type": "application/json"}
    if key is not None:
        headers["X-Api-Key"] = key
    headers["Idempotency-Key"] = idempotency_key or str(uuid.uuid4())
    raw = body if isinstance(body, (bytes, str)) else json.dumps(body)
    return client.http.post("/orders", headers=headers, body=raw)
