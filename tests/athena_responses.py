"""Athena's answers as its API documents them (StartQueryExecution, GetQueryExecution,
GetQueryResults), for tests that stub only the HTTP exchange with botocore's Stubber: moto's
Athena does not run SQL."""

from __future__ import annotations

from datetime import datetime
from typing import Any

QUERY_ID = "0f3b1c2d-1111-4222-8333-444455556666"


def column(name: str, kind: str, precision: int = 0, scale: int = 0) -> dict[str, Any]:
    return {
        "CatalogName": "hive",
        "SchemaName": "",
        "TableName": "",
        "Name": name,
        "Label": name,
        "Type": kind,
        "Precision": precision,
        "Scale": scale,
        "Nullable": "UNKNOWN",
        "CaseSensitive": kind == "varchar",
    }


def text_row(*values: str | None) -> dict[str, Any]:
    return {"Data": [{} if value is None else {"VarCharValue": value} for value in values]}


AGING_COLUMNS = [
    column("currency", "varchar", 2147483647),
    column("customer_id", "varchar", 2147483647),
    column("customer_name", "varchar", 2147483647),
    column("bucket", "integer", 10),
    column("amount", "decimal", 38, 4),
    column("open_items", "bigint", 19),
]

POSITIONS_COLUMNS = [
    column("customer_id", "varchar", 2147483647),
    column("customer_name", "varchar", 2147483647),
    column("currency", "varchar", 2147483647),
    column("item_id", "varchar", 2147483647),
    column("due_on", "date", 0),
    column("amount", "decimal", 38, 4),
    column("kind", "varchar", 2147483647),
    column("number", "varchar", 2147483647),
    column("issued_on", "date", 0),
    column("legacy", "boolean", 0),
]


def execution(
    state: str,
    scanned: int = 0,
    reason: str | None = None,
    *,
    query: str = "SELECT 1",
    workgroup: str = "primary",
) -> dict[str, Any]:
    status: dict[str, Any] = {"State": state, "SubmissionDateTime": datetime(2026, 4, 1, 1, 30)}
    if reason:
        status["StateChangeReason"] = reason
    return {
        "QueryExecution": {
            "QueryExecutionId": QUERY_ID,
            "Query": query,
            "StatementType": "DML",
            "WorkGroup": workgroup,
            "Status": status,
            "Statistics": {
                "EngineExecutionTimeInMillis": 1200,
                "DataScannedInBytes": scanned,
                "TotalExecutionTimeInMillis": 1500,
            },
        }
    }


def results(columns: list[dict[str, Any]], *rows: tuple[str | None, ...]) -> dict[str, Any]:
    """One page of GetQueryResults: the header, then ``rows`` (``None``: NULL)."""
    header = text_row(*(info["Name"] for info in columns))
    return {
        "ResultSet": {
            "Rows": [header, *(text_row(*row) for row in rows)],
            "ResultSetMetadata": {"ColumnInfo": columns},
        },
        "UpdateCount": 0,
    }
