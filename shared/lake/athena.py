"""Athena: the engine of the lake's SQL on AWS (DuckDB on one machine: shared/lake/duck.py).

A query starts in the stack's workgroup (``LAKE_WORKGROUP``: results location, encryption and
the bytes-scanned cutoff are enforced there) against the lake's Glue database
(``LAKE_DATABASE``), is polled with GetQueryExecution, backing off from 0.2 s to 2 s between
polls, until it is SUCCEEDED, FAILED or CANCELLED or the wait given runs out (``StillRunning``:
the caller may poll again later with ``outcome``), and its rows are read page by page with
GetQueryResults. Athena answers every value as text (the first row of the first page is the
header); each column is read back by the type ``ColumnInfo`` gives it, so the rows are the
Python values DuckDB gives (``Decimal``, ``int``, ``date``, ``datetime``, ``bool``, ``None``).

The bytes a query scanned (what Athena bills) are logged and put in the ``LakeBytesScanned``
metric.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit

from shared.config import settings
from shared.observability import logger, metrics

WAIT_SECONDS = 20.0  # a report asked over HTTP waits this long before answering 202
FIRST_POLL_SECONDS = 0.2
MAX_POLL_SECONDS = 2.0
FINISHED = frozenset({"SUCCEEDED", "FAILED", "CANCELLED"})
METRIC = "LakeBytesScanned"

Row = dict[str, Any]


class StillRunning(Exception):
    """The query had not finished within the wait; ``query_id`` names it."""

    def __init__(self, query_id: str) -> None:
        super().__init__(f"lake query {query_id} is still running")
        self.query_id = query_id


class UnknownQuery(Exception):
    """No query of this id ran in the workgroup with the SQL expected."""


class QueryFailed(Exception):
    """The query ended FAILED or CANCELLED."""

    def __init__(self, query_id: str, state: str, reason: str) -> None:
        super().__init__(f"lake query {query_id} {state.lower()}: {reason}")
        self.query_id, self.state, self.reason = query_id, state, reason


def client() -> Any:
    from shared.adapters import aws

    return aws.client("athena")


def start(sql: str, athena: Any) -> str:
    """Start ``sql`` in the stack's workgroup; its query execution id."""
    chosen = settings()
    answer = athena.start_query_execution(
        QueryString=sql,
        WorkGroup=chosen.lake_workgroup,
        QueryExecutionContext={"Database": chosen.lake_database},
    )
    query_id: str = answer["QueryExecutionId"]
    return query_id


def outcome(
    query_id: str,
    athena: Any,
    *,
    within: float = WAIT_SECONDS,
    sql: str | None = None,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
) -> list[Row]:
    """The rows of the query once it succeeded; ``StillRunning`` when it has not finished
    within ``within`` seconds, ``QueryFailed`` when it failed or was cancelled. With ``sql``,
    ``UnknownQuery`` unless the query is one of the workgroup's that ran exactly ``sql``."""
    deadline = clock() + within
    pause = FIRST_POLL_SECONDS
    while True:
        execution = _execution(query_id, athena)
        if sql is not None and (
            execution.get("Query") != sql or execution.get("WorkGroup") != settings().lake_workgroup
        ):
            raise UnknownQuery(query_id)
        state = execution["Status"]["State"]
        if state in FINISHED:
            break
        left = deadline - clock()
        if left <= 0:
            raise StillRunning(query_id)
        sleep(min(pause, left))
        pause = min(pause * 2, MAX_POLL_SECONDS)
    _count_scanned(query_id, state, execution.get("Statistics", {}))
    if state != "SUCCEEDED":
        reason = execution["Status"].get("StateChangeReason", "")
        raise QueryFailed(query_id, state, reason)
    return results(query_id, athena)


def _execution(query_id: str, athena: Any) -> dict[str, Any]:
    try:
        execution: dict[str, Any] = athena.get_query_execution(QueryExecutionId=query_id)
    except athena.exceptions.InvalidRequestException as unknown:  # no such query id
        raise UnknownQuery(query_id) from unknown
    found: dict[str, Any] = execution["QueryExecution"]
    return found


def rows(sql: str, athena: Any | None = None, *, within: float | None = None) -> list[Row]:
    """Run ``sql`` and answer its rows (``StillRunning`` past ``within`` seconds, by default
    ``WAIT_SECONDS``)."""
    athena = athena or client()
    return outcome(start(sql, athena), athena, within=WAIT_SECONDS if within is None else within)


def results(query_id: str, athena: Any) -> list[Row]:
    """Every row of a succeeded query, each column read by its type."""
    found: list[Row] = []
    columns: list[tuple[str, str]] = []
    for page in athena.get_paginator("get_query_results").paginate(QueryExecutionId=query_id):
        result = page["ResultSet"]
        listed = result["Rows"]
        if not columns:
            info = result["ResultSetMetadata"]["ColumnInfo"]
            columns = [(column["Name"], column["Type"]) for column in info]
            listed = listed[1:]  # the header: the columns' names
        found += [_row(columns, row["Data"]) for row in listed]
    return found


def _row(columns: Sequence[tuple[str, str]], data: Sequence[Mapping[str, str]]) -> Row:
    return {name: value(kind, cell) for (name, kind), cell in zip(columns, data, strict=True)}


def value(kind: str, cell: Mapping[str, str]) -> Any:
    """A cell of Athena's result (``{}`` for NULL) as the Python value of its column's type."""
    if "VarCharValue" not in cell:
        return None
    text = cell["VarCharValue"]
    kind = kind.lower()
    if kind.startswith("timestamp"):
        return _timestamp(text)
    read = _READERS.get(kind)
    return text if read is None else read(text)


def _timestamp(text: str) -> datetime:
    if text.endswith(" UTC"):  # timestamp with time zone
        return datetime.fromisoformat(text[: -len(" UTC")]).replace(tzinfo=UTC)
    return datetime.fromisoformat(text)


_READERS: dict[str, Callable[[str], Any]] = {
    **dict.fromkeys(("tinyint", "smallint", "integer", "int", "bigint"), int),
    **dict.fromkeys(("double", "real", "float"), float),
    "decimal": Decimal,
    "boolean": lambda text: text == "true",
    "date": date.fromisoformat,
}  # any other type (varchar, char, json, ...) is its text


def _count_scanned(query_id: str, state: str, statistics: Mapping[str, Any]) -> None:
    scanned = int(statistics.get("DataScannedInBytes", 0))
    logger.info(
        "lake query finished",
        extra={"query_id": query_id, "state": state, "bytes_scanned": scanned},
    )
    metrics.add_metric(name=METRIC, unit=MetricUnit.Bytes, value=float(scanned))
