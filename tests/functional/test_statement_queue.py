"""A large bank statement posted to the API: 202 and a status URL; the worker imports it.

The file goes where a dropped one goes (the documents bucket's inbox, SSE-KMS), so S3 (moto)
announces it on the default bus, the rule routes it to the bank-statements queue, and the pump
runs the importer, as on AWS.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from botocore.exceptions import ReadTimeoutError

from functions.payments import import_statement
from infra.local import pump as pump_module
from infra.local.pump import LambdaContext
from shared.config import settings
from shared.store import payments as payments_store
from tests.functional.accounts import Answer, call, new_staff
from tests.functional.aws_faults import failing_once
from tests.functional.bank_files import post_statement
from tests.functional.conftest import PARTNER_KEY, World
from tests.functional.helpers import assert_problem
from tests.functional.payment_intake import STATEMENT, event_data, objects, payments

SAMPLE = STATEMENT.read_bytes()
SHA = hashlib.sha256(SAMPLE).hexdigest()
STATUS_URL = f"/bank-statements/{SHA}"
API_UPLOAD = f"inbox/camt053/api/{SHA}.xml"


@pytest.fixture
def large_files_queued(world: World) -> Iterator[None]:
    """The sample file counts as large: anything over 1 KiB goes to the worker."""
    assert len(SAMPLE) > 1024
    os.environ["STATEMENT_SYNC_MAX_BYTES"] = "1024"  # the world restores the environment
    settings.cache_clear()
    yield
    settings.cache_clear()


def answer_of(response: Any) -> Answer:
    return Answer(response.status_code, json.loads(response.body), dict(response.headers))


def status(client: Any) -> dict[str, Any]:
    answer = call(client, "GET", STATUS_URL)
    assert answer.status == 200, answer.body
    assert answer.headers["Cache-Control"] == "no-store"
    body: dict[str, Any] = answer.body
    return body


def test_a_large_file_answers_202_and_the_worker_imports_it(
    client, world: World, large_files_queued
):
    # When the file is posted
    accepted = answer_of(post_statement(client, SAMPLE, idempotency_key="large-1"))

    # Then 202 with the status URL; the file is stored encrypted, nothing is imported yet
    assert accepted.status == 202, accepted.body
    assert accepted.headers["Location"] == STATUS_URL
    assert accepted.body["id"] == SHA and accepted.body["status"] == "received"
    assert accepted.body["summary"] is None
    assert objects(world, "inbox/camt053/api/") == {API_UPLOAD: SAMPLE}
    stored = world.session.client("s3").head_object(
        Bucket=world.outputs["DocumentsBucketName"], Key=API_UPLOAD
    )
    assert stored["ServerSideEncryption"] == "aws:kms"
    assert payments(world) == []
    assert status(client)["status"] == "received"

    # When the worker runs
    world.pump.drain()

    # Then the statement is imported, its payments received once
    imported = status(client)
    assert imported["status"] == "imported" and imported["reason"] is None
    assert imported["imported_by"] == "stf_admin"
    received = payments(world)
    assert sorted(imported["summary"]["payments"]) == sorted(p["id"] for p in received)
    assert len(received) == 5 and len(event_data(world, "PaymentReceived")) == 5
    assert world.queue_depth("BankStatementsQueue") == 0

    # And the same request again replays the 202; the same file in a new request answers 200
    replayed = answer_of(post_statement(client, SAMPLE, idempotency_key="large-1"))
    assert replayed.status == 202 and replayed.body == accepted.body
    again = answer_of(post_statement(client, SAMPLE, idempotency_key="large-2"))
    assert again.status == 200 and again.body["summary"] == imported["summary"]
    world.pump.drain()
    assert len(payments(world)) == 5


def test_every_file_goes_to_the_worker_when_the_limit_is_zero(client, world: World):
    # Given a deployment that imports every posted file in the worker
    os.environ["STATEMENT_SYNC_MAX_BYTES"] = "0"
    settings.cache_clear()

    # When a small file is posted
    accepted = post_statement(client, SAMPLE)
    settings.cache_clear()

    # Then it is queued too
    assert accepted.status_code == 202
    world.pump.drain()
    assert status(client)["status"] == "imported"


def test_a_worker_run_that_fails_is_retried_by_sqs_and_completes(
    client, world: World, large_files_queued
):
    # Given a queued file
    assert post_statement(client, SAMPLE).status_code == 202

    # When DynamoDB throttles the worker's first payment transaction
    with failing_once("dynamodb.TransactWriteItems", "throttle") as failed:
        world.pump.drain()

    # Then SQS delivered the message again, and that run imported the file, once
    assert failed == ["dynamodb.TransactWriteItems"]
    imported = status(client)
    assert imported["status"] == "imported"
    assert len(payments(world)) == 5
    assert world.queue_depth("BankStatementsQueue") == 0
    assert world.queue_depth("BankStatementsDeadLetterQueue") == 0


def test_a_worker_out_of_time_stops_and_the_next_delivery_goes_on(
    client, world: World, large_files_queued, monkeypatch
):
    # Given a queued file, and a first worker run whose Lambda is about to time out after two
    # payments (it has 60 s left for them, then less than its reserve)
    assert post_statement(client, SAMPLE).status_code == 202
    checks: list[int] = []

    @dataclass
    class Hurried(LambdaContext):
        def get_remaining_time_in_millis(self) -> int:
            if self.function_name != "import_bank_statements":
                return self.timeout_millis
            checks.append(1)
            return 1000 if len(checks) == 3 else self.timeout_millis

    monkeypatch.setattr(pump_module, "LambdaContext", Hurried)

    # When the worker runs, and SQS delivers the message again
    world.pump.drain()

    # Then the first run stopped after two payments, and the next received the other three once
    assert status(client)["status"] == "imported"
    assert len(payments(world)) == 5 and len(event_data(world, "PaymentReceived")) == 5
    assert len(checks) == 3 + 5  # two credits, the stop; then five credits
    assert world.queue_depth("BankStatementsDeadLetterQueue") == 0


def test_a_file_whose_every_import_fails_ends_failed_with_the_reason(
    client, world: World, large_files_queued, monkeypatch
):
    # Given a queued file, and DynamoDB timing out on every payment
    assert post_statement(client, SAMPLE).status_code == 202

    def timing_out(payment: Any, **_: Any) -> None:
        raise ReadTimeoutError(endpoint_url="https://dynamodb.amazonaws.com")

    with monkeypatch.context() as patched:
        patched.setattr(payments_store, "receive", timing_out)

        # When the worker runs as often as SQS delivers the message
        world.pump.drain()

    # Then the statement is failed with why, the message rests in the DLQ, nothing was received
    failed = status(client)
    assert failed["status"] == "failed"
    assert f"failed {import_statement.MAX_RECEIVES} times" in failed["reason"]
    assert "Read timeout" in failed["reason"]
    assert world.queue_depth("BankStatementsQueue") == 0
    assert world.queue_depth("BankStatementsDeadLetterQueue") == 1
    assert payments(world) == []

    # When the file is posted again, with AWS well
    retried = answer_of(post_statement(client, SAMPLE))
    world.pump.drain()

    # Then it is received anew and imported
    assert retried.status == 202 and retried.body["status"] == "received"
    assert retried.body["reason"] is None
    assert status(client)["status"] == "imported"
    assert len(payments(world)) == 5


def test_a_small_file_is_still_imported_while_the_caller_waits(client, world: World):
    # When a file under the limit is posted
    response = post_statement(client, SAMPLE)

    # Then it is imported at once, and its status reads imported
    assert response.status_code == 201
    assert json.loads(response.body)["file_sha256"] == SHA
    assert status(client)["status"] == "imported"
    assert objects(world, "inbox/camt053/api/") == {}


def test_only_who_imports_statements_reads_their_status(client, world: World):
    # Given an imported file and an auditor
    assert post_statement(client, SAMPLE).status_code == 201
    _, auditor = new_staff(client, "auditor")

    # Then a partner and an auditor are refused; an unknown or malformed id is not found
    assert_problem(
        client.http.get(STATUS_URL, headers={"X-Api-Key": PARTNER_KEY}), 403, "forbidden"
    )
    assert_problem(client.http.get(STATUS_URL, headers={"X-Api-Key": auditor}), 403, "forbidden")
    assert call(client, "GET", "/bank-statements/" + "0" * 64).status == 404
    assert call(client, "GET", "/bank-statements/not-a-sha").status == 404
