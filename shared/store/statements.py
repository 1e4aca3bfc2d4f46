"""Bank statement files imported, one item per file content.

- statement: ``STATEMENT#<sha256 of the file>`` / ``STATEMENT``: put when an import of the file
  starts (``importing``), completed with the import's summary (``imported``). The same bytes
  posted or dropped again find it and import nothing; the payments themselves are guarded one
  by one (shared/store/payments.py), so an import interrupted half way is simply run again.
"""

from __future__ import annotations

import json
from contextlib import suppress
from typing import Any

from shared import clock
from shared.store import table
from shared.store.table import Put, TransactionConflictError, Update

SORT_KEY = "STATEMENT"
IMPORTING = "importing"
IMPORTED = "imported"


def statement_key(sha256: str) -> tuple[str, str]:
    return f"STATEMENT#{sha256}", SORT_KEY


def summary_of(sha256: str) -> dict[str, Any] | None:
    """The summary of the file's completed import, or None (never imported, or unfinished)."""
    item = table.get(*statement_key(sha256))
    if item is None or item.get("status") != IMPORTED:
        return None
    summary: dict[str, Any] = json.loads(item["summary"])
    return summary


def begin(sha256: str, *, statement_id: str, key: str, by: str) -> None:
    """Record that an import of the file starts (again, after an interruption: no change)."""
    pk, sk = statement_key(sha256)
    item = {
        "pk": pk,
        "sk": sk,
        "entity": "BankStatement",
        "sha256": sha256,
        "statement_id": statement_id,
        "key": key,
        "imported_by": by,
        "status": IMPORTING,
        "started_at": clock.iso(clock.now()),
    }
    # Begun before (an interrupted run): the payments already received are skipped by their
    # guards, so the import simply goes on.
    with suppress(TransactionConflictError):
        table.transact([Put.new(item)])


def complete(sha256: str, summary: dict[str, Any]) -> None:
    table.transact(
        [
            Update(
                key=statement_key(sha256),
                expression="SET #status = :imported, summary = :summary, finished_at = :now",
                condition="attribute_exists(pk)",
                values={
                    ":imported": IMPORTED,
                    ":summary": json.dumps(summary, separators=(",", ":"), sort_keys=True),
                    ":now": clock.iso(clock.now()),
                },
                names={"#status": "status"},
            )
        ]
    )
