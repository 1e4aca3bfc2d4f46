"""Idempotency-Key semantics beyond the HTTP happy paths."""

from __future__ import annotations

import time

import pytest

from shared.http import idempotency, problems


def test_a_request_still_in_progress_answers_409_with_retry_after(world):
    # Given a request with a key that is still being processed
    def inner() -> idempotency.Answer:
        return {"status": 201, "body": {}}

    def outer() -> idempotency.Answer:
        # When the same key and body arrive again meanwhile
        return idempotency.once("orders.place", "prt_demo", "key-9", b"{}", inner)

    # Then the second one is told to retry shortly, and the first one fails nothing
    with pytest.raises(problems.Problem) as raised:
        idempotency.once("orders.place", "prt_demo", "key-9", b"{}", outer)
    assert raised.value.status == 409
    assert raised.value.headers["Retry-After"] == "1"


def test_the_answer_is_stored_once_and_replayed_without_running_again(world):
    calls = []

    def produce() -> idempotency.Answer:
        calls.append(1)
        return {"status": 201, "body": {"n": len(calls)}}

    first = idempotency.once("orders.place", "prt_demo", "key-10", b"{}", produce)
    second = idempotency.once("orders.place", "prt_demo", "key-10", b"{}", produce)
    assert first == second == {"status": 201, "body": {"n": 1}}
    assert calls == [1]
    records = world.session.client("dynamodb").scan(TableName=world.outputs["IdempotencyTableName"])
    assert records["Count"] == 1
    # kept longer than the 72 h a gateway may keep retrying
    assert int(records["Items"][0]["expiration"]["N"]) >= time.time() + 72 * 3600


@pytest.mark.parametrize("key", ["", "x" * 256, "tab\tkey"])
def test_unusable_keys_are_refused(key):
    with pytest.raises(problems.Problem) as raised:
        idempotency.require_key({"idempotency-key": key})
    assert raised.value.status == 400
