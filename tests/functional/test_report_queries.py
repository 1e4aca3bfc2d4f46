"""Reports from the lake on Athena over the API: a query that outlasts the request's wait
answers 202 with a status URL, which answers the report once the query has finished.

moto's Athena does not run SQL, so the app's Athena client is botocore's Stubber over a real
client: only the HTTP exchange is stubbed, with responses shaped exactly like Athena's
documented JSON (tests/athena_responses.py); everything else is the deployed code path.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from typing import Any
from urllib.parse import parse_qs, urlsplit

import boto3
import pytest
from botocore.stub import Stubber

from functions.reporting import snapshot
from shared import clock
from shared.config import settings
from shared.domain.aging import DEFAULT_EDGES
from shared.lake import athena, queries
from shared.store import snapshots
from tests.athena_responses import (
    AGING_COLUMNS,
    POSITIONS_COLUMNS,
    QUERY_ID,
    execution,
    results,
)
from tests.functional.accounts import call
from tests.functional.conftest import World
from tests.functional.helpers import assert_problem_answer

AS_OF = date(2026, 3, 31)
ACME = ("cus_acme", "ACME Retail GmbH", "EUR")


@pytest.fixture
def stubber(world: World, monkeypatch: pytest.MonkeyPatch) -> Iterator[Stubber]:
    """The stack's lake on Athena, whose client answers what the test stubs; a request waits
    for no query (a query not done at its first poll is still running)."""
    monkeypatch.setenv("LAKE_ENGINE", "athena")
    settings.cache_clear()
    client = boto3.client("athena", region_name="us-east-1")
    monkeypatch.setattr(athena, "client", lambda: client)
    monkeypatch.setattr(athena, "WAIT_SECONDS", 0.0)
    with Stubber(client) as stubbed:
        yield stubbed
        stubbed.assert_no_pending_responses()
    settings.cache_clear()


def state(stubbed: Stubber, status: str, **given: Any) -> None:
    workgroup = settings().lake_workgroup
    answer = execution(status, 2048, workgroup=workgroup, **given)
    stubbed.add_response("get_query_execution", answer, {"QueryExecutionId": QUERY_ID})


def test_a_lake_report_still_running_answers_202_then_its_status_url_the_report(client, stubber):
    # Given Athena accepting the aging's query in the stack's workgroup, still running
    sql = queries.aging(AS_OF, DEFAULT_EDGES)
    stubber.add_response(
        "start_query_execution",
        {"QueryExecutionId": QUERY_ID},
        {
            "QueryString": sql,
            "WorkGroup": settings().lake_workgroup,
            "QueryExecutionContext": {"Database": settings().lake_database},
        },
    )
    state(stubber, "RUNNING", query=sql)

    # When staff ask for the aging of a past day from the lake
    asked = call(client, "GET", f"/reports/aging?as_of={AS_OF.isoformat()}&source=lake")

    # Then 202 names the query's status URL
    assert asked.status == 202, asked.body
    assert asked.body["status"] == "running" and asked.body["query_id"] == QUERY_ID
    status_url = asked.body["status_url"]
    assert asked.headers["Location"] == status_url
    assert urlsplit(status_url).path == f"/reports/queries/{QUERY_ID}"
    assert parse_qs(urlsplit(status_url).query) == {
        "report": ["aging"],
        "as_of": [AS_OF.isoformat()],
        "buckets": ["30,60,90"],
    }

    # When it is asked while running, Then 202 again
    state(stubber, "RUNNING", query=sql)
    assert call(client, "GET", status_url).status == 202

    # When the query has succeeded, Then the status URL answers the report from its rows
    state(stubber, "SUCCEEDED", query=sql)
    page = results(
        AGING_COLUMNS,
        ("EUR", "cus_acme", "ACME Retail GmbH", "2", "1000.0000", "1"),
        ("EUR", "cus_acme", "ACME Retail GmbH", None, "40.0000", None),
    )
    stubber.add_response("get_query_results", page, {"QueryExecutionId": QUERY_ID})
    done = call(client, "GET", status_url)
    assert done.status == 200, done.body
    assert (done.body["source"], done.body["as_of"], done.body["skipped"]) == (
        "lake",
        AS_OF.isoformat(),
        [],
    )
    [row] = done.body["currencies"][0]["customers"]
    assert (row["customer_id"], Decimal(row["total"]), Decimal(row["balance"])) == (
        "cus_acme",
        Decimal("1000"),
        Decimal("960"),
    )


def test_the_lake_open_items_still_running_answer_202_then_their_status_url_the_list(
    client, stubber
):
    # Given Athena running the positions query of 03-31 (the whole lake's open items)
    sql = queries.positions(AS_OF)
    stubber.add_response(
        "start_query_execution",
        {"QueryExecutionId": QUERY_ID},
        {
            "QueryString": sql,
            "WorkGroup": settings().lake_workgroup,
            "QueryExecutionContext": {"Database": settings().lake_database},
        },
    )
    state(stubber, "RUNNING", query=sql)

    # When staff ask for the open items of 03-31 from the lake, Then 202 names the status URL
    asked = call(client, "GET", f"/reports/open-items?as_of={AS_OF.isoformat()}&source=lake")
    assert asked.status == 202, asked.body
    assert parse_qs(urlsplit(asked.body["status_url"]).query) == {
        "report": ["open-items"],
        "as_of": [AS_OF.isoformat()],
        "buckets": ["30,60,90"],
    }

    # When the query has succeeded, Then the status URL answers the rows, described
    state(stubber, "SUCCEEDED", query=sql)
    page = results(
        POSITIONS_COLUMNS,
        (*ACME, "inv_1", "2026-03-01", "100.0000", "invoice", "INV-1", "2026-02-01", "false"),
        (*ACME, "fee:inv_1:2", "2026-03-20", "5.0000", "fee", "INV-1", "2026-03-20", "false"),
        (*ACME, None, None, "40.0000", None, None, None, None),
    )
    stubber.add_response("get_query_results", page, {"QueryExecutionId": QUERY_ID})
    done = call(client, "GET", asked.body["status_url"])
    assert done.status == 200, done.body
    assert done.body["source"] == "lake"
    assert [
        (row["item_id"], row["kind"], row["number"], row["days_past_due"], row["amount"])
        for row in done.body["items"]
    ] == [("inv_1", "invoice", "INV-1", 30, "100.00"), ("fee:inv_1:2", "fee", "INV-1", 11, "5.00")]


def test_the_kpis_of_a_past_period_read_the_lake_by_default_and_may_answer_202(client, stubber):
    # Given a nightly KPI snapshot of 04-01, and Athena still running March's KPIs
    day = date(2026, 4, 1)
    keys = (snapshot.object_key("kpis", day, "json"), snapshot.object_key("kpis", day, "csv"))
    snapshots.point_to(snapshots.Pointer("kpis", day, *keys, clock.now()))
    sql = queries.kpis(date(2026, 3, 1), AS_OF)
    stubber.add_response(
        "start_query_execution",
        {"QueryExecutionId": QUERY_ID},
        {
            "QueryString": sql,
            "WorkGroup": settings().lake_workgroup,
            "QueryExecutionContext": {"Database": settings().lake_database},
        },
    )
    state(stubber, "RUNNING", query=sql)

    # When staff ask for March's KPIs without a source
    asked = call(client, "GET", "/reports/kpis?from=2026-03-01&to=2026-03-31")

    # Then 202 names the lake query's status URL
    assert asked.status == 202, asked.body
    assert parse_qs(urlsplit(asked.body["status_url"]).query) == {
        "report": ["kpis"],
        "from": ["2026-03-01"],
        "to": ["2026-03-31"],
    }


def test_a_status_url_answers_only_the_report_its_query_ran(client, stubber):
    # Given the query that ran the aging of 03-31
    state(stubber, "SUCCEEDED", query=queries.aging(AS_OF, DEFAULT_EDGES))

    # When its id is asked for with another day, Then no such report query exists
    answer = call(client, "GET", f"/reports/queries/{QUERY_ID}?report=aging&as_of=2026-03-30")
    assert_problem_answer(answer, 404, "not-found")


def test_a_failed_lake_query_answers_a_problem(client, stubber):
    sql = queries.kpis(date(2026, 3, 1), AS_OF)
    state(stubber, "FAILED", query=sql, reason="Bytes scanned limit was exceeded")

    answer = call(
        client, "GET", f"/reports/queries/{QUERY_ID}?report=kpis&from=2026-03-01&to=2026-03-31"
    )

    problem = assert_problem_answer(answer, 502, "lake-query-failed")
    assert "Bytes scanned limit" in problem["detail"]


@pytest.mark.parametrize(
    "path",
    [
        f"/reports/queries/{QUERY_ID}?report=aging",  # no as_of
        f"/reports/queries/{QUERY_ID}?report=kpis&from=2026-03-01",  # no to
        f"/reports/queries/{QUERY_ID}?report=dso&as_of=2026-03-31",
        f"/reports/queries/{QUERY_ID}?report=aging&as_of=2026-03-31&buckets=x",
        "/reports/aging?live=true&source=lake",
        "/reports/kpis?source=athena",
    ],
)
def test_hostile_report_queries_answer_400(client, world, path):
    assert_problem_answer(call(client, "GET", path), 400, "invalid-query")


def test_without_athena_no_report_query_exists(client, world):
    # Given the local lake (DuckDB answers at once: no query is ever left running)
    answer = call(client, "GET", f"/reports/queries/{QUERY_ID}?report=aging&as_of=2026-03-31")

    assert_problem_answer(answer, 404, "not-found")
    malformed = "/reports/queries/not-an-id?report=aging&as_of=2026-03-31"
    assert_problem_answer(call(client, "GET", malformed), 404, "not-found")
