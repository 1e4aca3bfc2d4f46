"""Land committed facts in the lake: the table stream's new entries and events -> Firehose.

One delivery stream per lake table (``<LAKE_STREAM_PREFIX><table>``). A stream batch is turned
into rows record by record, in order; the rows are put per table (PutRecordBatch, retrying the
records Firehose refused). Delivery is at least once: a batch that fails is retried whole from
its first unlanded record, so a row may land twice. The lake's readers keep one row per key
(docs/lake.md), which makes a duplicate harmless.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Iterable, Sequence
from typing import Any

from functions.lake.facts import Landed, rows_of
from shared.adapters import firehose
from shared.config import settings
from shared.lake import records
from shared.store.table import Item, from_dynamo

_log = logging.getLogger(__name__)
LANDED_ENTITIES = ("LedgerEntry", "Event")


def stream_name(table: str) -> str:
    return f"{settings().lake_stream_prefix}{table}"


def land(rows: Iterable[Landed]) -> dict[str, int]:
    """Put the rows on their tables' delivery streams; return how many went to each table."""
    by_table: dict[str, list[bytes]] = defaultdict(list)
    for table, row in rows:
        by_table[table].append(records.encode(table, row))
    for table, encoded in sorted(by_table.items()):
        firehose.put_records(stream_name(table), encoded)
    return {table: len(encoded) for table, encoded in sorted(by_table.items())}


def land_items(items: Iterable[Item]) -> dict[str, int]:
    return land(row for item in items for row in rows_of(item))


def land_stream_batch(stream_records: Sequence[dict[str, Any]]) -> list[str]:
    """Land the entries and events inserted in a DynamoDB stream batch.

    Returns the sequence numbers to retry (Lambda's partial batch response: it retries from the
    first of them). A record whose facts cannot be read stops the batch there; the records
    before it are landed.
    """
    rows: list[Landed] = []
    retry: list[str] = []
    for record in stream_records:
        if not _landed(record):
            continue
        try:
            rows += rows_of(from_dynamo(record["dynamodb"]["NewImage"]))
        except Exception:
            _log.exception("could not read the facts of a stream record")
            retry = [record["dynamodb"]["SequenceNumber"]]
            break
    try:
        land(rows)
    except Exception:
        _log.exception("could not land %d rows", len(rows))
        first = next((r for r in stream_records if _landed(r)), None)
        return [first["dynamodb"]["SequenceNumber"]] if first else []
    return retry


def _landed(record: dict[str, Any]) -> bool:
    image = record.get("dynamodb", {}).get("NewImage", {})
    entity = image.get("entity", {}).get("S")
    return record.get("eventName") == "INSERT" and entity in LANDED_ENTITIES
