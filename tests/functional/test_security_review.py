"""Security review (issue 8), the parts that need the running app under moto.

Checked here: API keys are stored only as hashes, objects written through the documents adapter
are SSE-KMS under the stack's key, bodies over the limit and over-long ids are refused as 4xx.

Checked elsewhere, not repeated here (see also tests/infra/test_security_review.py):
- a partner's key is absent from its item and from the idempotency record of its registration:
  tests/functional/test_principals_api.py;
- invoices, statements and report snapshots written by their handlers are stored SSE-KMS:
  tests/functional/test_invoice_delivery.py, test_statement_api.py, test_report_snapshot.py;
- a 50 MB order body answers 413 and writes nothing: tests/functional/test_orders_api.py
  ``test_bad_input_answers_problem_json_and_writes_nothing``; an oversized webhook body:
  tests/functional/test_stripe_webhooks.py.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from shared.adapters import documents
from shared.config import settings
from shared.http.auth import hash_key
from tests.functional.accounts import PROBLEM, call, new_staff
from tests.functional.conftest import ADMIN_KEY, PARTNER_KEY, World, post_order

OVER_LONG_ID = "x" * 3000  # past DynamoDB's 2048-byte partition key, within API Gateway's URL


def _raw_items(world: World, table_name: str) -> list[dict[str, Any]]:
    pages = world.session.client("dynamodb").get_paginator("scan").paginate(TableName=table_name)
    return [item for page in pages for item in page["Items"]]


def _stored_text(world: World) -> str:
    """Every attribute of every item of both tables, as one searchable text."""
    items = [
        *_raw_items(world, world.outputs["TableName"]),
        *_raw_items(world, world.outputs["IdempotencyTableName"]),
    ]
    return json.dumps(items, default=str)


@pytest.fixture
def dynamodb_key_limits(world: World) -> Iterator[None]:
    """Make moto refuse an over-long key on reads as DynamoDB does (moto checks writes only).

    DynamoDB answers a GetItem whose partition key exceeds 2048 bytes (or sort key 1024) with a
    ValidationException; without this a handler that passes such an id on would pass here and
    fail with a 500 on AWS.
    """
    from moto.dynamodb.exceptions import HashKeyTooLong, RangeKeyTooLong
    from moto.dynamodb.limits import HASH_KEY_MAX_LENGTH, RANGE_KEY_MAX_LENGTH
    from moto.dynamodb.models.table import Table

    get_item = Table.get_item

    def strict_get_item(table: Table, hash_key: Any, range_key: Any = None, *args: Any) -> Any:
        if hash_key.size() > HASH_KEY_MAX_LENGTH:
            raise HashKeyTooLong
        if range_key is not None and range_key.size() > RANGE_KEY_MAX_LENGTH:
            raise RangeKeyTooLong
        return get_item(table, hash_key, range_key, *args)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(Table, "get_item", strict_get_item)
        yield


# --- API keys -----------------------------------------------------------------------------------


def test_api_keys_issued_through_the_api_are_stored_only_as_hashes(world, client):
    # Given keys issued every way the API issues them: a partner, a staff member, a second key
    partner = call(client, "POST", "/partners", body={"name": "ERP", "customer_ids": ["cus_acme"]})
    assert partner.status == 201, partner.body
    _, staff_secret = new_staff(client, "ar_clerk")
    principal_id = partner.body["partner"]["id"]
    second = call(client, "POST", f"/principals/{principal_id}/keys", body={"label": "rotation"})
    assert second.status == 201, second.body
    issued = [partner.body["api_key"]["secret"], staff_secret, second.body["api_key"]["secret"]]

    # When both tables are scanned, every attribute of every item
    stored = _stored_text(world)

    # Then no raw key appears anywhere, not even the seeded ones, and each is found by its hash
    for secret in [*issued, ADMIN_KEY, PARTNER_KEY]:
        assert secret not in stored
        assert f"APIKEY#{hash_key(secret)}" in stored
    for secret in issued:  # and the keys issued work
        assert call(client, "GET", "/customers/cus_acme", key=secret).status == 200


# --- documents bucket ---------------------------------------------------------------------------


def test_an_object_written_through_the_adapter_is_encrypted_with_the_stacks_key(world):
    # Given the documents adapter
    key = "security-review/probe.txt"

    # When an object is written through it
    documents.write(key, b"probe", content_type="text/plain")

    # Then S3 stored it SSE-KMS under the stack's key
    head = world.session.client("s3").head_object(
        Bucket=world.outputs["DocumentsBucketName"], Key=key
    )
    assert head["ServerSideEncryption"] == "aws:kms"
    assert head["SSEKMSKeyId"] == world.outputs["KeyArn"]


# --- input size limits --------------------------------------------------------------------------


def _padded_body(size: int) -> bytes:
    """A JSON document of exactly ``size`` bytes."""
    frame = b'{"padding":""}'
    return frame[:-2] + b"x" * (size - len(frame)) + frame[-2:]


def test_an_order_body_one_byte_over_the_limit_answers_413_and_writes_nothing(world, client):
    # Given a body one byte longer than the limit, and one at the limit
    limit = settings().max_body_bytes
    over, at = _padded_body(limit + 1), _padded_body(limit)
    assert (len(over), len(at)) == (limit + 1, limit)

    # When a partner posts each
    refused = post_order(client, over)
    read = post_order(client, at)

    # Then the longer is refused as too large, with nothing written; the other is read
    assert refused.status_code == 413
    assert refused.headers["Content-Type"] == PROBLEM
    assert json.loads(refused.body)["type"].endswith("/payload-too-large")
    assert read.status_code == 422  # read and validated: the limit is the limit, not less
    assert world.written() == []
    assert _raw_items(world, world.outputs["IdempotencyTableName"]) == []


@pytest.mark.parametrize(
    "path",
    [
        f"/orders/{OVER_LONG_ID}",
        f"/invoices/{OVER_LONG_ID}",
        f"/customers/{OVER_LONG_ID}",
        f"/payments/{OVER_LONG_ID}",
        f"/orders?customer_id={OVER_LONG_ID}",
    ],
    ids=["order", "invoice", "customer", "payment", "orders-by-customer"],
)
@pytest.mark.parametrize("key", [PARTNER_KEY, ADMIN_KEY], ids=["partner", "admin"])
def test_an_over_long_id_answers_a_client_error(world, client, dynamodb_key_limits, path, key):
    # When a caller asks for a resource by an id longer than any key DynamoDB takes
    answer = call(client, "GET", path, key=key)

    # Then it gets a 4xx problem, not a 500
    assert 400 <= answer.status < 500, answer.body
    assert answer.headers["Content-Type"] == PROBLEM
