"""DuckDB over the lake's files: the engine of the lake's SQL on one machine (Athena on AWS).

A lake is a folder holding ``<table>/dt=yyyy-mm-dd/<file>`` for the tables of
shared/lake/tables.py: Parquet (``*.parquet``, as ``write`` makes them) or JSON lines (any other
file, ``.gz`` compressed or not: decimals as strings, instants as ISO 8601), in any mix. Each
table becomes a view of its columns plus ``dt`` (text), so the SQL reads the same names as on
Athena. Timestamps are UTC without a zone, as Glue declares them. Trino's
``json_extract_scalar``, which the SQL reads events' data with, is a macro over DuckDB's
``json_extract_string``.

duckdb is imported here only, on first use: it is not a Lambda dependency (Athena is the engine
there).
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Mapping, Sequence
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

from shared.domain.aging import DEFAULT_EDGES, AgingReport
from shared.domain.behaviour import BehaviourReport
from shared.domain.kpis import KpiReport
from shared.lake import queries, reports
from shared.lake.tables import COLUMNS, MONEY, PARTITION, Row, partition_of

if TYPE_CHECKING:
    import duckdb

TYPES = {
    "string": "VARCHAR",
    "boolean": "BOOLEAN",
    "date": "DATE",
    "timestamp": "TIMESTAMP_MS",
    MONEY: "DECIMAL(20,4)",
}


def connect(root: Path, *, threads: int | None = None) -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB whose views read the lake under ``root``."""
    import duckdb  # only where DuckDB is the engine

    connection = duckdb.connect()
    connection.execute("SET TimeZone = 'UTC'")
    # Trino's json_extract_scalar (a JSON scalar as text), which DuckDB names otherwise
    connection.execute(
        "CREATE MACRO json_extract_scalar(document, path) AS json_extract_string(document, path)"
    )
    if threads:
        connection.execute(f"SET threads = {int(threads)}")
    for table in COLUMNS:
        connection.execute(f"CREATE VIEW {table} AS {_source(root / table, table)}")
    return connection


def rows(connection: duckdb.DuckDBPyConnection, sql: str) -> list[dict[str, Any]]:
    """The query's rows as dicts of column name to value."""
    cursor = connection.execute(sql)
    names = [column[0] for column in cursor.description]
    return [dict(zip(names, values, strict=True)) for values in cursor.fetchall()]


def write(root: Path, tables: Mapping[str, Sequence[Row]]) -> None:
    """Add the rows (shared/lake/tables.py) to the lake under ``root`` as Parquet files, one
    per table and ``dt`` partition, next to those already there."""
    import duckdb  # only where DuckDB is the engine

    connection = duckdb.connect()
    connection.execute("SET TimeZone = 'UTC'")
    root.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as scratch:
        for table, table_rows in tables.items():
            if not table_rows:
                continue
            lines = Path(scratch) / f"{table}.jsonl"
            lines.write_text(_lines(table, table_rows), encoding="utf-8")
            connection.execute(
                f"COPY ({_json_select(table, [lines], partition=False)}) "
                f"TO {_quoted(root / table)} "
                f"(FORMAT parquet, PARTITION_BY ({PARTITION}), APPEND true)"
            )


def write_lines(root: Path, tables: Mapping[str, Sequence[Row]], name: str = "rows") -> None:
    """Add the rows to the lake as JSON lines, ``<table>/dt=<day>/<name>.jsonl`` (the format a
    delivery stream without record conversion lands)."""
    for table, table_rows in tables.items():
        by_day: dict[str, list[Row]] = {}
        for row in table_rows:
            by_day.setdefault(partition_of(table, row), []).append(row)
        for day, day_rows in by_day.items():
            folder = root / table / f"{PARTITION}={day}"
            folder.mkdir(parents=True, exist_ok=True)
            (folder / f"{name}.jsonl").write_text(_lines(table, day_rows), encoding="utf-8")


def _lines(table: str, table_rows: Sequence[Row]) -> str:
    return "".join(
        json.dumps({**_plain(row), PARTITION: partition_of(table, row)}) + "\n"
        for row in table_rows
    )


def _source(folder: Path, table: str) -> str:
    files = sorted(path for path in folder.rglob("*") if path.is_file()) if folder.is_dir() else []
    parquet = [path for path in files if path.suffix == ".parquet"]
    lines = [path for path in files if path.suffix != ".parquet" and not path.name.startswith(".")]
    selects = []
    if parquet:
        names = ", ".join([*(name for name, _ in COLUMNS[table]), PARTITION])
        selects.append(
            f"SELECT {names} FROM read_parquet({_quoted(folder / '**' / '*.parquet')}, "  # noqa: S608
            f"hive_partitioning = true, hive_types = {{'{PARTITION}': 'VARCHAR'}})"
        )
    if lines:
        selects.append(_json_select(table, lines, partition=True))
    if not selects:
        empty = ", ".join(f"CAST(NULL AS {TYPES[kind]}) AS {name}" for name, kind in COLUMNS[table])
        return f"SELECT {empty}, CAST(NULL AS VARCHAR) AS {PARTITION} WHERE false"
    return " UNION ALL ".join(selects)


def _json_select(table: str, files: Sequence[Path], *, partition: bool) -> str:
    """JSON lines read with the table's types (instants with their zone, kept in UTC)."""
    read_as = {
        name: "TIMESTAMPTZ" if kind == "timestamp" else TYPES[kind] for name, kind in COLUMNS[table]
    }
    if not partition:
        read_as[PARTITION] = "VARCHAR"
    columns = ", ".join(f"'{name}': '{kind}'" for name, kind in read_as.items())
    casts = ", ".join(
        f"CAST(CAST({name} AS TIMESTAMP) AS TIMESTAMP_MS) AS {name}"
        if kind == "timestamp"
        else name
        for name, kind in COLUMNS[table]
    )
    paths = ", ".join(_quoted(path) for path in files)
    hive = (
        f", hive_partitioning = true, hive_types = {{'{PARTITION}': 'VARCHAR'}}"
        if partition
        else ""
    )
    return (
        f"SELECT {casts}, {PARTITION} FROM read_json([{paths}], format = 'newline_delimited', "  # noqa: S608
        f"columns = {{{columns}}}{hive})"
    )


def _plain(row: Row) -> dict[str, Any]:
    return {name: _json_value(value) for name, value in row.items()}


def _json_value(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    return value


def _quoted(path: Path) -> str:
    return "'" + str(path).replace("'", "''") + "'"


def aging(root: Path, as_of: date, edges: Sequence[int] = DEFAULT_EDGES) -> AgingReport:
    """AR aging at the end of ``as_of`` from the lake under ``root``."""
    found = rows(connect(root), queries.aging(as_of, edges))
    return reports.aging_report(found, as_of, edges)


def kpis(root: Path, start: date, end: date) -> KpiReport:
    """The KPIs of ``start``..``end`` from the lake under ``root``."""
    return reports.kpi_report(rows(connect(root), queries.kpis(start, end)), start, end)


def behaviour(root: Path, start: date, as_of: date) -> BehaviourReport:
    """Each customer's behaviour over ``start``..``as_of`` from the lake under ``root``."""
    return reports.behaviour_report(
        rows(connect(root), queries.behaviour(start, as_of)), start, as_of
    )
