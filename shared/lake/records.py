"""A lake row as the JSON record Firehose takes: one line, its values as text where JSON has none.

Decimals are strings (exact: ``"12.3400"``), instants ISO 8601 in UTC with milliseconds
(``2026-03-01T09:30:00.000Z``, a format Firehose's record format conversion reads as a
timestamp), dates ``yyyy-mm-dd``. Each record also carries its partition ``dt``: Firehose's
dynamic partitioning reads it (``partitionKeyFromQuery:dt``) to choose the object's prefix, and the
conversion to Parquet drops it again (it is the Glue table's partition key, not a column).
Records end in a newline, so the objects Firehose concatenates them into are JSON lines.
"""

from __future__ import annotations

import json
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from shared import clock
from shared.lake.tables import PARTITION, Row, column_names, partition_of


def value(raw: Any) -> Any:
    if isinstance(raw, Decimal):
        return str(raw)
    if isinstance(raw, datetime):
        return clock.iso(raw)
    if isinstance(raw, date):
        return raw.isoformat()
    return raw


def encode(table: str, row: Row) -> bytes:
    """The row's JSON line, its columns in the table's order, then ``dt``."""
    record = {name: value(row[name]) for name in column_names(table)}
    record[PARTITION] = partition_of(table, row)
    return (json.dumps(record, separators=(",", ":")) + "\n").encode()
