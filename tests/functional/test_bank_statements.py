"""Bank statements (camt.053) become payments: posted to the API, or dropped in the bucket inbox.

The inbox path is the real one: the object put in the bucket makes S3 (moto) announce it on the
default bus, the rule routes it to the bank-statements queue, and the pump runs the importer.
"""

from __future__ import annotations

import hashlib
import json
from decimal import Decimal

import pytest

import app as app_module
from infra.local.pump import LambdaContext
from shared.store import ledger as ledger_store
from tests.functional.accounts import new_staff
from tests.functional.bank_files import post_statement
from tests.functional.conftest import PARTNER_KEY, World
from tests.functional.helpers import assert_problem, snapshot
from tests.functional.payment_intake import (
    STATEMENT,
    event_data,
    guards,
    objects,
    payments,
)

SAMPLE = STATEMENT.read_bytes()
SHA = hashlib.sha256(SAMPLE).hexdigest()


def drop(world: World, name: str, content: bytes) -> None:
    """Put a file where the bank's file transfer drops it, and let everything run."""
    world.session.client("s3").put_object(
        Bucket=world.outputs["DocumentsBucketName"], Key=f"inbox/camt053/{name}", Body=content
    )
    world.pump.drain()


# --- through the API ------------------------------------------------------------------------------


def test_a_posted_statement_becomes_one_payment_per_booked_credit(client, world: World):
    # When
    response = post_statement(client, SAMPLE)
    world.pump.drain()

    # Then: the summary, the file kept, the payments received
    assert response.status_code == 201, response.body
    summary = json.loads(response.body)
    received = payments(world)
    assert summary == {
        "statement_id": "STMT-2026-11-20-0532013000",
        "file_sha256": SHA,
        "payments": summary["payments"],
        "skipped_debits": 1,
        "skipped_unbooked": 1,
        "duplicates": 0,
        "reversed_payments": [],
        "held_reversals": [],
    }
    assert sorted(summary["payments"]) == sorted(p["id"] for p in received)
    assert objects(world, "statements/") == {f"statements/{SHA}.xml": SAMPLE}
    assert sorted((p["external_id"], p["amount"]["amount"]) for p in received) == [
        ("COBA2026112000001", "1190.00"),
        ("COBA2026112000002", "845.50"),
        ("COBA2026112000003#1", "1000.00"),
        ("COBA2026112000003#2", "500.00"),
        ("COBA2026112000004", "79.00"),
    ]
    assert len(event_data(world, "PaymentReceived")) == 5


def test_statement_payments_keep_what_cash_application_matches_on(client, world: World):
    # When
    post_statement(client, SAMPLE)

    # Then
    clean = next(p for p in payments(world) if p["external_id"] == "COBA2026112000001")
    assert clean["source"] == "bank" and clean["method"] == "bank_transfer"
    assert clean["payer_name"] == "ACME Retail GmbH"
    assert clean["payer_account"] == "DE02120300000000202051"
    assert clean["remittance"] == "INV-2026-000017 RF50INV2026000017"
    assert clean["received_at"] == "2026-11-20T00:00:00.000Z"
    assert clean["customer_id"] is None
    assert clean["metadata"]["end_to_end_id"] == "ACME-PAY-88231"
    assert clean["metadata"]["creditor_references"] == "RF50INV2026000017"
    assert clean["metadata"]["account_iban"] == "DE89370400440532013000"
    assert clean["metadata"]["statement_sha256"] == SHA


def test_unidentified_statement_payments_wait_in_the_suspense_ledger(client, world: World):
    # When
    post_statement(client, SAMPLE)

    # Then
    entries = ledger_store.entries_for("UNIDENTIFIED")
    assert len(entries) == 5
    assert sum((entry.total for entry in entries), Decimal(0)) == Decimal("3614.50")


def test_the_same_file_again_imports_nothing_and_answers_the_first_summary(client, world: World):
    # Given
    first = post_statement(client, SAMPLE)
    world.pump.drain()
    before = snapshot(world)

    # When
    again = post_statement(client, SAMPLE)

    # Then
    assert again.status_code == 200
    assert json.loads(again.body) == json.loads(first.body)
    assert snapshot(world) == before


def test_the_same_entries_in_another_file_are_duplicates(client, world: World):
    # Given: the same statement, sent again as another message
    post_statement(client, SAMPLE)
    resent = SAMPLE.replace(b"COBA-20261120-0001", b"COBA-20261120-0002")

    # When
    response = post_statement(client, resent)

    # Then
    assert response.status_code == 201
    summary = json.loads(response.body)
    assert summary["payments"] == [] and summary["duplicates"] == 5
    assert len(payments(world)) == 5
    assert len(guards(world, "STATEMENT#")) == 2


def test_an_idempotency_key_replays_the_first_answer(client, world: World):
    # Given
    first = post_statement(client, SAMPLE, idempotency_key="stmt-key-1")

    # When
    replay = post_statement(client, SAMPLE, idempotency_key="stmt-key-1")
    other_body = post_statement(client, SAMPLE + b"\n", idempotency_key="stmt-key-1")

    # Then
    assert replay.status_code == 201 and json.loads(replay.body) == json.loads(first.body)
    assert_problem(other_body, 422, "idempotency-key-reused")


@pytest.mark.parametrize(
    ("content", "detail"),
    [
        (b"<Document><Stmt>", "not well-formed"),
        (SAMPLE.replace(b"camt.053.001.08", b"camt.052.001.08"), "not a camt.053"),
        (SAMPLE.replace(b'<Amt Ccy="EUR">79.00</Amt>', b"<Amt>79.00</Amt>"), "no currency"),
        (SAMPLE.replace(b">845.50<", b">845,50<"), "not a decimal number"),
    ],
)
def test_a_malformed_file_is_refused_whole(client, world: World, content, detail):
    # Given
    before = snapshot(world)

    # When
    response = post_statement(client, content)

    # Then
    problem = assert_problem(response, 422, "invalid-statement")
    assert detail in problem["detail"]
    assert snapshot(world) == before and objects(world, "statements/") == {}


def test_ar_clerks_and_admins_import_statements_others_may_not(client, world: World):
    # Given
    _, clerk = new_staff(client, "ar_clerk")
    _, auditor = new_staff(client, "auditor")

    # When
    by_clerk = post_statement(client, SAMPLE, key=clerk)
    by_auditor = post_statement(client, SAMPLE, key=auditor)
    by_partner = post_statement(client, SAMPLE, key=PARTNER_KEY)

    # Then
    assert by_clerk.status_code == 201
    assert_problem(by_auditor, 403, "forbidden")
    assert_problem(by_partner, 403, "forbidden")


def test_only_xml_is_accepted(client, world: World):
    # When
    response = post_statement(client, SAMPLE, content_type="text/csv")

    # Then
    assert_problem(response, 415, "unsupported-media-type")


# --- through the bucket inbox ---------------------------------------------------------------------


def test_a_statement_dropped_in_the_inbox_is_imported(client, world: World):
    # When
    drop(world, "coba-2026-11-20.xml", SAMPLE)

    # Then
    assert len(payments(world)) == 5
    [statement] = guards(world, "STATEMENT#")
    assert statement["status"] == "imported" and statement["imported_by"] == "inbox"
    assert json.loads(statement["summary"])["statement_id"] == "STMT-2026-11-20-0532013000"
    assert f"statements/{SHA}.xml" in objects(world, "statements/")
    assert world.queue_depth("BankStatementsQueue") == 0


def test_a_file_dropped_and_posted_is_imported_once(client, world: World):
    # Given
    drop(world, "coba.xml", SAMPLE)

    # When
    response = post_statement(client, SAMPLE)

    # Then
    assert response.status_code == 200
    assert len(payments(world)) == 5


def test_a_malformed_dropped_file_leaves_an_error_report_and_no_payment(client, world: World):
    # When
    drop(world, "broken.xml", SAMPLE.replace(b">845.50<", b">845,50<"))

    # Then: reported, nothing imported, and the message consumed rather than retried
    reports = objects(world, "inbox/camt053/errors/")
    assert list(reports) == ["inbox/camt053/errors/broken.xml.txt"]
    report = reports["inbox/camt053/errors/broken.xml.txt"].decode()
    assert "inbox/camt053/broken.xml" in report and "not a decimal number" in report
    assert payments(world) == [] and guards(world, "STATEMENT#") == []
    assert world.queue_depth("BankStatementsQueue") == 0
    assert world.queue_depth("BankStatementsDeadLetterQueue") == 0


def test_the_bank_statements_sample_batch_imports_the_dropped_statement(world: World):
    # Given: the statement where the sample event says it was dropped
    batch = json.loads((STATEMENT.parents[1] / "sqs" / "bank-statements-batch.json").read_text())
    world.session.client("s3").put_object(
        Bucket=world.outputs["DocumentsBucketName"],
        Key="inbox/camt053/coba-2026-11-20.xml",
        Body=SAMPLE,
    )

    # When: the sample is handled, then the bucket's own announcement of the same file
    answer = app_module.import_bank_statements(batch, LambdaContext("import_bank_statements"))
    world.pump.drain()

    # Then
    assert answer == {"batchItemFailures": []}
    assert len(payments(world)) == 5
