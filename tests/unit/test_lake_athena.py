"""Athena as the lake's engine: a query started in the stack's workgroup, polled, its pages read
and each column converted by its type into what shared/lake/reports.py reads.

moto's Athena does not run SQL, so these tests stub ONLY the HTTP exchange, with botocore's
Stubber: each response below is shaped exactly like Athena's documented JSON
(StartQueryExecution's ``QueryExecutionId``; GetQueryExecution's ``QueryExecution`` with
``Status.State`` and ``Statistics.DataScannedInBytes``; GetQueryResults' ``ResultSet`` with
``ResultSetMetadata.ColumnInfo`` and ``Rows``, the first row of the first page the header, every
value ``VarCharValue`` text and NULL an empty ``Data`` cell, pages chained by ``NextToken``), and
the Stubber checks each request's parameters against Athena's model.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from unittest import mock

import boto3
import pytest
from botocore.stub import Stubber

from shared.config import settings
from shared.domain.aging import DEFAULT_EDGES
from shared.lake import athena, engine, queries, reports
from tests.athena_responses import AGING_COLUMNS, QUERY_ID, execution, text_row
from tests.athena_responses import column as column_info

WORKGROUP, DATABASE = "otc-test-lake", "otc_test_lake"
AS_OF = date(2026, 3, 31)


@pytest.fixture
def stubbed(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Any, Stubber]]:
    monkeypatch.setenv("LAKE_ENGINE", "athena")
    monkeypatch.setenv("LAKE_WORKGROUP", WORKGROUP)
    monkeypatch.setenv("LAKE_DATABASE", DATABASE)
    for variable in ("TABLE_NAME", "IDEMPOTENCY_TABLE_NAME", "EVENT_BUS_NAME"):
        monkeypatch.setenv(variable, "unused")
    settings.cache_clear()
    client = boto3.client("athena", region_name="eu-west-1")
    with Stubber(client) as stubber:
        yield client, stubber
        stubber.assert_no_pending_responses()
    settings.cache_clear()


def expect_start(stubber: Stubber, sql: str) -> None:
    stubber.add_response(
        "start_query_execution",
        {"QueryExecutionId": QUERY_ID},
        {
            "QueryString": sql,
            "WorkGroup": WORKGROUP,
            "QueryExecutionContext": {"Database": DATABASE},
        },
    )


def expect_state(stubber: Stubber, state: str, scanned: int = 0, reason: str = "") -> None:
    stubber.add_response(
        "get_query_execution",
        execution(state, scanned, reason, workgroup=WORKGROUP),
        {"QueryExecutionId": QUERY_ID},
    )


def no_sleep(_seconds: float) -> None:
    return None


def test_an_aging_query_runs_in_the_workgroup_and_its_text_rows_make_the_report(stubbed):
    # Given Athena running the aging query: queued, running, then succeeded, its result in two
    # pages (the header first), a NULL bucket holding the customer's unapplied cash
    client, stubber = stubbed
    sql = queries.aging(AS_OF, DEFAULT_EDGES)
    expect_start(stubber, sql)
    expect_state(stubber, "QUEUED")
    expect_state(stubber, "RUNNING")
    expect_state(stubber, "SUCCEEDED", scanned=123_456)
    first = {
        "ResultSet": {
            "Rows": [
                text_row(
                    "currency", "customer_id", "customer_name", "bucket", "amount", "open_items"
                ),
                text_row("EUR", "cus_acme", "ACME GmbH", "0", "100.5000", "1"),
                text_row("EUR", "cus_acme", "ACME GmbH", "2", "1000.0000", "1"),
            ],
            "ResultSetMetadata": {"ColumnInfo": AGING_COLUMNS},
        },
        "NextToken": "page-2",
        "UpdateCount": 0,
    }
    second = {
        "ResultSet": {
            "Rows": [text_row("EUR", "cus_acme", "ACME GmbH", None, "25.0000", None)],
            "ResultSetMetadata": {"ColumnInfo": AGING_COLUMNS},
        },
        "UpdateCount": 0,
    }
    stubber.add_response("get_query_results", first, {"QueryExecutionId": QUERY_ID})
    stubber.add_response(
        "get_query_results", second, {"QueryExecutionId": QUERY_ID, "NextToken": "page-2"}
    )

    # When the rows are asked for
    found = athena.outcome(athena.start(sql, client), client, sleep=no_sleep)

    # Then every column is read by its type, and the aging is made from them
    assert found[0] == {
        "currency": "EUR",
        "customer_id": "cus_acme",
        "customer_name": "ACME GmbH",
        "bucket": 0,
        "amount": Decimal("100.5000"),
        "open_items": 1,
    }
    assert found[2]["bucket"] is None and found[2]["open_items"] is None
    report = reports.aging_report(found, AS_OF).to_wire()
    [customer] = report["currencies"][0]["customers"]
    assert customer["customer_id"] == "cus_acme"
    assert Decimal(customer["total"]) == Decimal("1100.50")


def test_a_query_still_running_after_the_wait_names_itself(stubbed):
    # Given a query that keeps running
    client, stubber = stubbed
    for _ in range(3):
        expect_state(stubber, "RUNNING")
    ticks = iter([0.0, 1.0, 2.0, 3.5])

    # When its outcome is awaited for 3 seconds, Then it is still running, named by its id
    with pytest.raises(athena.StillRunning) as raised:
        athena.outcome(QUERY_ID, client, within=3, sleep=no_sleep, clock=lambda: next(ticks))
    assert raised.value.query_id == QUERY_ID


def test_a_failed_query_says_why(stubbed):
    client, stubber = stubbed
    expect_state(stubber, "FAILED", scanned=10, reason="Bytes scanned limit was exceeded")

    with pytest.raises(athena.QueryFailed) as raised:
        athena.outcome(QUERY_ID, client, sleep=no_sleep)

    assert (raised.value.state, raised.value.reason) == (
        "FAILED",
        "Bytes scanned limit was exceeded",
    )


@pytest.mark.parametrize(
    ("kind", "text", "expected"),
    [
        ("varchar", "EUR", "EUR"),
        ("bigint", "42", 42),
        ("integer", "-3", -3),
        ("decimal", "1234.5600", Decimal("1234.5600")),
        ("double", "0.5", 0.5),
        ("boolean", "true", True),
        ("boolean", "false", False),
        ("date", "2026-03-31", date(2026, 3, 31)),
        ("timestamp", "2026-03-31 23:59:59.123", datetime(2026, 3, 31, 23, 59, 59, 123000)),
    ],
)
def test_each_type_reads_back_from_athenas_text(kind, text, expected):
    assert athena.value(kind, {"VarCharValue": text}) == expected
    assert athena.value(kind, {}) is None


def test_the_engine_runs_the_sql_on_athena_when_the_stack_says_so(stubbed):
    # Given the stack's engine is Athena, answering one row at once
    client, stubber = stubbed
    expect_start(stubber, "SELECT 1 AS one")
    expect_state(stubber, "SUCCEEDED", scanned=0)
    page = {
        "ResultSet": {
            "Rows": [text_row("one"), text_row("1")],
            "ResultSetMetadata": {"ColumnInfo": [column_info("one", "integer")]},
        }
    }
    stubber.add_response("get_query_results", page, {"QueryExecutionId": QUERY_ID})

    # When the engine runs a query, Then Athena ran it
    with mock.patch.object(athena, "client", lambda: client):
        assert engine.rows("SELECT 1 AS one") == [{"one": 1}]


def test_an_unknown_engine_is_refused(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("LAKE_ENGINE", "spark")
    for variable in ("TABLE_NAME", "IDEMPOTENCY_TABLE_NAME", "EVENT_BUS_NAME"):
        monkeypatch.setenv(variable, "unused")
    settings.cache_clear()
    try:
        with pytest.raises(ValueError, match="LAKE_ENGINE"):
            engine.rows("SELECT 1")
    finally:
        settings.cache_clear()
