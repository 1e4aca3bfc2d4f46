"""One way to run the lake's SQL and get its rows, whatever engine the stack has.

``LAKE_ENGINE`` chooses: ``athena`` on AWS (shared/lake/athena.py, the stack's workgroup and
Glue database), ``duckdb`` locally and in tests: the lake bucket's objects are copied to a
temporary folder (shared/lake/s3.py) and DuckDB reads them there (shared/lake/duck.py). Either
way a row is a dict of column name to Python value.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

from shared.config import settings
from shared.lake import athena

ATHENA = "athena"
DUCKDB = "duckdb"
ENGINES = (ATHENA, DUCKDB)


def name() -> str:
    chosen = settings().lake_engine
    if chosen not in ENGINES:
        raise ValueError(f"LAKE_ENGINE is {chosen!r}; one of {', '.join(ENGINES)}")
    return chosen


def rows(sql: str, *, within: float | None = None) -> list[dict[str, Any]]:
    """The rows of ``sql``; on Athena, ``athena.StillRunning`` when it has not finished within
    ``within`` seconds (DuckDB always finishes)."""
    if name() == ATHENA:
        return athena.rows(sql, within=within)
    return _duckdb_rows(sql)


def outcome(query_id: str, *, sql: str, within: float = 0) -> list[dict[str, Any]]:
    """The rows of the Athena query ``query_id`` that ran ``sql`` (``StillRunning``,
    ``QueryFailed``, ``UnknownQuery``)."""
    return athena.outcome(query_id, athena.client(), within=within, sql=sql)


def _duckdb_rows(sql: str) -> list[dict[str, Any]]:
    from shared.adapters import aws
    from shared.lake import duck, s3

    with tempfile.TemporaryDirectory() as folder:
        root = s3.download(aws.client("s3"), settings().lake_bucket, Path(folder))
        return duck.rows(duck.connect(root), sql)
