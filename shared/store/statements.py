"""Bank statement files imported, one item per file content.

- statement: ``STATEMENT#<sha256 of the file>`` / ``STATEMENT``: put when a file posted for a
  worker to import is stored (``received``), or when an import of the file starts
  (``importing``); completed with the import's summary (``imported``), or ``failed`` with the
  reason once the worker's last attempt failed. The same bytes posted or dropped again find it
  and import nothing; the payments themselves are guarded one by one
  (shared/store/payments.py), so an import interrupted half way is simply run again.
"""

from __future__ import annotations

import json
from contextlib import suppress
from typing import Any

from shared import clock
from shared.store import table
from shared.store.table import Put, TransactionConflictError, Update

SORT_KEY = "STATEMENT"
RECEIVED = "received"
IMPORTING = "importing"
IMPORTED = "imported"
FAILED = "failed"
MAX_REASON_LENGTH = 500


def statement_key(sha256: str) -> tuple[str, str]:
    return f"STATEMENT#{sha256}", SORT_KEY


def get(sha256: str) -> dict[str, Any] | None:
    """The file's import record (status, who, when, summary or reason), or None."""
    return table.get(*statement_key(sha256))


def summary_of(sha256: str) -> dict[str, Any] | None:
    """The summary of the file's completed import, or None (never imported, or unfinished)."""
    item = table.get(*statement_key(sha256))
    if item is None or item.get("status") != IMPORTED:
        return None
    summary: dict[str, Any] = json.loads(item["summary"])
    return summary


def receive(sha256: str, *, statement_id: str, key: str, by: str) -> bool:
    """Record a file stored for the worker (``received``), anew after a failed import; False
    when the file is being imported or was imported already."""
    pk, sk = statement_key(sha256)
    item = {
        "pk": pk,
        "sk": sk,
        "entity": "BankStatement",
        "sha256": sha256,
        "statement_id": statement_id,
        "key": key,
        "imported_by": by,
        "status": RECEIVED,
        "received_at": clock.iso(clock.now()),
    }
    # Only a failed import has a reason (``begin`` removes it).
    unknown_or_failed = "attribute_not_exists(pk) OR attribute_exists(reason)"
    try:
        table.transact([Put(item=item, condition=unknown_or_failed)])
    except TransactionConflictError:
        return False
    return True


def begin(sha256: str, *, statement_id: str, key: str, by: str) -> None:
    """Record that an import of the file starts (again, after an interruption or a failure).

    Begun before (an interrupted run): the payments already received are skipped by their
    guards, so the import simply goes on. A file imported meanwhile is left as it is.
    """
    with suppress(TransactionConflictError):
        table.transact(
            [
                Update(
                    key=statement_key(sha256),
                    expression=(
                        "SET entity = :entity, sha256 = :sha256, statement_id = :statement_id, "
                        "#key = :key, imported_by = if_not_exists(imported_by, :by), "
                        "#status = :importing, started_at = :now REMOVE reason"
                    ),
                    condition="attribute_not_exists(pk) OR #status <> :imported",
                    values={
                        ":entity": "BankStatement",
                        ":sha256": sha256,
                        ":statement_id": statement_id,
                        ":key": key,
                        ":by": by,
                        ":importing": IMPORTING,
                        ":imported": IMPORTED,
                        ":now": clock.iso(clock.now()),
                    },
                    names={"#key": "key", "#status": "status"},
                )
            ]
        )


def fail(sha256: str, reason: str) -> None:
    """Record that the import gave up (``failed``, with why); an imported file stays imported."""
    with suppress(TransactionConflictError):
        table.transact(
            [
                Update(
                    key=statement_key(sha256),
                    expression="SET #status = :failed, reason = :reason, finished_at = :now",
                    condition="attribute_exists(pk) AND #status <> :imported",
                    values={
                        ":failed": FAILED,
                        ":imported": IMPORTED,
                        ":reason": reason[:MAX_REASON_LENGTH],
                        ":now": clock.iso(clock.now()),
                    },
                    names={"#status": "status"},
                )
            ]
        )


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
