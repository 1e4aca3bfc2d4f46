"""A fresh moto world per test, deployed from infra/resources.yaml, with the app and the pump."""

from __future__ import annotations

import json
import os
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass
from functools import cache
from typing import Any
from unittest import mock

import boto3
import pytest
from chalice.test import Client
from moto import mock_aws

import app as app_module
from infra.local import stack
from infra.local.moto_firehose import partitioned_deliveries
from infra.local.moto_request_tokens import honoured_request_tokens
from infra.local.moto_streams import trimmed_reads_refused
from infra.local.moto_transactions import lean_transactions
from infra.local.offline import (
    ADMIN_KEY,
    PARTNER_KEY,
    Deployment,
    deploy_and_seed,
    reset_process_state,
)
from infra.local.persistence import dump_world, install_world
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
        return _scan(self.session, self.outputs)

    def queue_depth(self, logical_id: str) -> int:
        attributes = self.session.client("sqs").get_queue_attributes(
            QueueUrl=self.queues[logical_id],
            AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
        )["Attributes"]
        return int(attributes["ApproximateNumberOfMessages"]) + int(
            attributes["ApproximateNumberOfMessagesNotVisible"]
        )


@dataclass(frozen=True)
class _Seeded:
    """A world just deployed and seeded, kept in this process to be put back for every test."""

    moto: bytes  # moto's backends, pickled
    keys: list[Any]  # the private keys in them, kept as they are
    deployment: Deployment
    environment: dict[str, str]  # the variables the deployment set
    queue_arns: dict[str, str]  # by queue URL, for each world's pump
    items: frozenset[tuple[str, str]]  # the keys of the seeded table's items


@cache
def _seeded() -> _Seeded:
    """Deploy infra/resources.yaml and seed it once per test process (most of a world's cost)."""
    before = dict(os.environ)
    with (
        mock.patch.dict(os.environ),
        mock_aws(),
        honoured_request_tokens(),
        partitioned_deliveries(),
    ):
        reset_process_state()
        session = boto3.session.Session(region_name=stack.REGION)
        deployment = deploy_and_seed(session)
        items = frozenset((item["pk"], item["sk"]) for item in _scan(session, deployment.outputs))
        pump = EventPump(
            app_module, session, deployment.queues, deployment.outputs["TableStreamArn"]
        )
        keys: list[Any] = []
        moto = dump_world(keys)
        changed = {name: value for name, value in os.environ.items() if before.get(name) != value}
    reset_process_state()
    return _Seeded(moto, keys, deployment, changed, pump.queue_arns, items)


@contextmanager
def opened_world(*, lean: bool = True) -> Iterator[World]:
    """A moto world deployed from infra/resources.yaml and seeded, with the app's event pump.

    Each world starts as a copy of the same seeded one, which nothing a test does can change.
    ``lean``: a transaction backs up only the items it names (``lean_transactions``), not the
    whole table, which moto copies before every transaction (its cost grows with the table).
    """
    seeded = _seeded()
    # the stack's variables go with the world; moto answers a re-sent transaction as DynamoDB does
    with (
        mock.patch.dict(os.environ, seeded.environment),
        mock_aws(),
        honoured_request_tokens(),
        partitioned_deliveries(),
        trimmed_reads_refused(),
        lean_transactions() if lean else nullcontext(),
    ):
        install_world(seeded.moto, seeded.keys)
        reset_process_state()
        session = boto3.session.Session(region_name=stack.REGION)
        deployment = seeded.deployment
        pump = EventPump(
            app_module,
            session,
            deployment.queues,
            deployment.outputs["TableStreamArn"],
            queue_arns=seeded.queue_arns,
        )
        yield World(session, dict(deployment.outputs), dict(deployment.queues), pump, seeded.items)
    reset_process_state()


def renew(world: World) -> None:
    """Put an opened world back as seeded: moto's state, and a pump that has read nothing."""
    seeded = _seeded()
    install_world(seeded.moto, seeded.keys)
    reset_process_state()
    world.pump = EventPump(
        app_module,
        world.session,
        seeded.deployment.queues,
        seeded.deployment.outputs["TableStreamArn"],
        queue_arns=seeded.queue_arns,
    )


def _scan(session: boto3.session.Session, outputs: dict[str, str]) -> list[dict[str, Any]]:
    from shared.store.table import from_dynamo

    pages = (
        session.client("dynamodb").get_paginator("scan").paginate(TableName=outputs["TableName"])
    )
    return [from_dynamo(item) for page in pages for item in page["Items"]]


@pytest.fixture(scope="session")
def _seeded_once() -> _Seeded:
    """Seeded before any test's own fixture runs (one that sets the clock, say)."""
    return _seeded()


@pytest.fixture
def world(request: pytest.FixtureRequest, _seeded_once: _Seeded) -> Iterator[World]:
    # Tests that race writers on threads keep moto's own, slower transactions: which racer reads
    # before the other writes depends on how long a write takes (one such test expects a 409
    # that a fast write turns into a 422).
    racing = "serializable_transactions" in request.fixturenames
    with opened_world(lean=not racing) as world:
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
