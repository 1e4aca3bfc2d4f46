"""The nightly journal export: one CSV file per day in S3 that an accounting system imports.

``export_day(day)`` writes every entry posted on ``day`` (UTC), in posting order, as the CSV of
GET /ledger/journal (one row per line, account codes and names, document references) to
``journal/YYYY/MM/DD.csv`` in the documents bucket (SSE-KMS by the bucket's default).

Idempotent per day: the file of a day is a function of that day's entries, so a re-run writes
the same bytes under the same key, and writes nothing at all when the stored file already has
them (its ``sha256`` metadata says so), so the versioned bucket gains no copy either. Each entry
belongs to the one day it was posted on, so later runs (of later days) never repeat it.
"""

from __future__ import annotations

import hashlib
from datetime import date
from typing import Any

from functions.ledger.journal import CSV_CONTENT_TYPE, all_entries_between, wire
from shared.adapters import documents
from shared.domain import journal

PREFIX = "journal"


def object_key(day: date) -> str:
    return f"{PREFIX}/{day:%Y/%m/%d}.csv"


def export_day(day: date) -> dict[str, Any]:
    """``{"day", "key", "entries", "sha256", "written"}``; ``written`` is False when the stored
    file already held exactly these bytes.

    Unlike a report, the export does not skip an entry that does not read: a file the books
    are imported from must be complete, so the run fails (and the schedule's retries and dead
    letter alarm tell) rather than write a day without it.
    """
    entries = all_entries_between(day, day)
    body = journal.to_csv(wire(entries)).encode()
    digest = hashlib.sha256(body).hexdigest()
    key = object_key(day)
    stored = documents.metadata(key)
    written = stored is None or stored.get("sha256") != digest
    if written:
        metadata = {"day": day.isoformat(), "sha256": digest, "entries": str(len(entries))}
        documents.write(key, body, content_type=CSV_CONTENT_TYPE, metadata=metadata)
    return {
        "day": day.isoformat(),
        "key": key,
        "entries": len(entries),
        "sha256": digest,
        "written": written,
    }
