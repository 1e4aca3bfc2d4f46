"""Data migration in the single table: import jobs, row markers, row errors, legacy invoices.

- job: ``IMPORT#<import id>`` / ``IMPORT``: status, source, counters (ADDed per chunk), report
- chunk marker: ``IMPORT#<import id>`` / ``CHUNK#<chunk, 6 digits>``: put with the counter update
- row error: ``IMPORT#<import id>`` / ``ERROR#<row, 8 digits>``: ``errors`` [{field, reason}]
- row marker: ``IMPORTROW#<import id>#<row>`` / ``IMPORTROW``: ``outcome`` ok/error, TTL 30 days
- legacy invoice: ``INVOICE#legacy-<invoice number>`` / ``INVOICE`` (see ``legacy_invoice_item``)

Exactly-once, over at-least-once delivery: a row lands in ONE transaction with its marker (a put
that fails when the marker exists), so a redelivered or repeated row changes nothing; a chunk's
counts are added in one transaction with its chunk marker, so the counters stay exact; the job
completes by a conditional update of its status, so exactly one worker completes it.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Sequence
from datetime import timedelta
from typing import Literal, TypeVar

from botocore.exceptions import ClientError

from shared import clock
from shared.domain import imports as domain
from shared.domain.events import DomainEvent
from shared.domain.imports import ImportJob, JobStatus, ReceivableRow, RowError
from shared.domain.ledger import JournalEntry
from shared.domain.money import quantize
from shared.store import outbox, readable, table
from shared.store.table import Item, Put, TransactionConflictError, Update, Write

Outcome = Literal["ok", "error"]
T = TypeVar("T")

JOB = "IMPORT"
ROW_MARKER_TTL = timedelta(days=30)  # outlives SQS retention (14 days) of the row messages
CONTENTION_ATTEMPTS = 6


class RowAlreadyImportedError(Exception):
    """The row was imported before (a redelivered or repeated message); ``outcome`` says how."""

    def __init__(self, outcome: Outcome) -> None:
        super().__init__(f"row already imported ({outcome})")
        self.outcome = outcome


# --- keys -------------------------------------------------------------------------------------


def job_key(import_id: str) -> tuple[str, str]:
    return f"IMPORT#{import_id}", JOB


def chunk_key(import_id: str, chunk: int) -> tuple[str, str]:
    return f"IMPORT#{import_id}", f"CHUNK#{chunk:06d}"


def error_key(import_id: str, row: int) -> tuple[str, str]:
    return f"IMPORT#{import_id}", f"ERROR#{row:08d}"


def row_marker_key(import_id: str, row: int) -> tuple[str, str]:
    return f"IMPORTROW#{import_id}#{row}", "IMPORTROW"


def legacy_invoice_key(invoice_number: str) -> tuple[str, str]:
    return f"INVOICE#{domain.legacy_invoice_id(invoice_number)}", "INVOICE"


# --- the job ----------------------------------------------------------------------------------


def job_item(job: ImportJob) -> Item:
    pk, sk = job_key(job.import_id)
    return {
        "pk": pk,
        "sk": sk,
        "entity": "Import",
        "import_id": job.import_id,
        "kind": job.kind,
        "status": job.status.value,
        "bucket": job.bucket,
        "key": job.key,
        "sha256": job.sha256,
        "reason": job.reason,
        "total_rows": job.total_rows,
        "processed": job.processed,
        "succeeded": job.succeeded,
        "failed": job.failed,
        "chunks": job.chunks,
        "fanned_out": job.fanned_out,
        "uploaded_by": job.uploaded_by,
        "created_at": clock.iso(job.created_at),
        "started_at": clock.iso(job.started_at) if job.started_at else None,
        "finished_at": clock.iso(job.finished_at) if job.finished_at else None,
        "report_key": job.report_key,
    }


@readable.reader
def from_item(item: Item) -> ImportJob:
    def number(name: str) -> int | None:
        return int(item[name]) if item.get(name) is not None else None

    return ImportJob(
        import_id=item["import_id"],
        kind=item["kind"],
        status=JobStatus(item["status"]),
        bucket=item["bucket"],
        key=item["key"],
        sha256=item.get("sha256"),
        reason=item.get("reason"),
        total_rows=number("total_rows"),
        processed=int(item.get("processed", 0)),
        succeeded=int(item.get("succeeded", 0)),
        failed=int(item.get("failed", 0)),
        chunks=number("chunks"),
        fanned_out=bool(item.get("fanned_out", False)),
        uploaded_by=item.get("uploaded_by"),
        created_at=clock.parse(item["created_at"]),
        started_at=clock.parse_optional(item.get("started_at")),
        finished_at=clock.parse_optional(item.get("finished_at")),
        report_key=item.get("report_key"),
    )


def get_job(import_id: str) -> ImportJob | None:
    item = table.get(*job_key(import_id), consistent=True)
    return from_item(item) if item else None


def create_pending(job: ImportJob) -> bool:
    """Record an upload the file worker has yet to read; False when the import exists."""
    try:
        table.transact([Put.new(job_item(job))])
    except TransactionConflictError:
        return False
    return True


def begin(job: ImportJob, event: DomainEvent) -> bool:
    """Write the job as read by the file worker (running, or failed), with its event.

    Only a new or a pending job is written; False when another worker got there first (a
    duplicate drop, a redelivery), and then nothing is written.
    """
    try:
        outbox.commit([_replacing_pending(job)], [event])
    except outbox.StaleStateError:
        return False
    return True


def _replacing_pending(job: ImportJob) -> Update:
    """Every attribute of ``job`` SET on the item, if it is new or still pending."""
    item = {k: v for k, v in job_item(job).items() if k not in ("pk", "sk") and v is not None}
    names = {f"#a{i}": name for i, name in enumerate(item)}
    values: Item = {f":v{i}": value for i, value in enumerate(item.values())}
    assignments = ", ".join(f"#a{i} = :v{i}" for i in range(len(item)))
    return Update(
        key=job_key(job.import_id),
        expression=f"SET {assignments}",
        condition="attribute_not_exists(pk) OR #status = :pending",
        values={**values, ":pending": JobStatus.PENDING.value},
        names={**names, "#status": "status"},
    )


def mark_fanned_out(import_id: str, chunks: int) -> None:
    table.transact(
        [
            Update(
                key=job_key(import_id),
                expression="SET fanned_out = :yes, chunks = :chunks",
                condition="attribute_exists(pk)",
                values={":yes": True, ":chunks": chunks},
            )
        ]
    )


def complete(job: ImportJob, report_key: str) -> ImportJob | None:
    """Mark a running job completed (its report is written); None when it already was."""
    now = clock.now()
    done = job.model_copy(
        update={"status": JobStatus.COMPLETED, "finished_at": now, "report_key": report_key}
    )
    update = Update(
        key=job_key(job.import_id),
        expression="SET #status = :completed, finished_at = :now, report_key = :report",
        condition="#status = :running",
        values={
            ":completed": JobStatus.COMPLETED.value,
            ":running": JobStatus.RUNNING.value,
            ":now": clock.iso(now),
            ":report": report_key,
        },
        names={"#status": "status"},
    )
    try:
        outbox.commit([update], [domain.completed(done)])
    except outbox.StaleStateError:
        return None
    return done


# --- chunks -----------------------------------------------------------------------------------


def chunk_counted(import_id: str, chunk: int) -> bool:
    return table.get(*chunk_key(import_id, chunk)) is not None


def count_chunk(import_id: str, chunk: int, succeeded: int, failed: int) -> bool:
    """Add a chunk's outcomes to the job's counters, once; False when they were added before."""
    pk, sk = chunk_key(import_id, chunk)
    marker = {
        "pk": pk,
        "sk": sk,
        "entity": "ImportChunk",
        "succeeded": succeeded,
        "failed": failed,
        "counted_at": clock.iso(clock.now()),
    }
    counters = Update(
        key=job_key(import_id),
        expression="ADD #processed :processed, #succeeded :succeeded, #failed :failed",
        condition="attribute_exists(pk)",
        values={":processed": succeeded + failed, ":succeeded": succeeded, ":failed": failed},
        names={"#processed": "processed", "#succeeded": "succeeded", "#failed": "failed"},
    )
    try:
        retrying_contention(lambda: table.transact([Put.new(marker), counters]))
    except TransactionConflictError as conflict:
        if 0 in conflict.failed:
            return False
        raise
    return True


# --- rows -------------------------------------------------------------------------------------


def _row_marker(import_id: str, row: int, outcome: Outcome) -> Put:
    pk, sk = row_marker_key(import_id, row)
    expires_at = int((clock.now() + ROW_MARKER_TTL).timestamp())
    item = {
        "pk": pk,
        "sk": sk,
        "entity": "ImportRow",
        "import_id": import_id,
        "row": row,
        "outcome": outcome,
        "expires_at": expires_at,
    }
    return Put(item=item, condition="attribute_not_exists(pk)")


def row_outcome(import_id: str, row: int) -> Outcome | None:
    item = table.get(*row_marker_key(import_id, row))
    if item is None:
        return None
    outcome: Outcome = item["outcome"]
    return outcome


def commit_row(
    import_id: str, row: int, state: Sequence[Write], events: Sequence[DomainEvent]
) -> None:
    """Apply a good row: its state, its events and its marker in one transaction.

    Raises ``RowAlreadyImportedError`` when the row was imported before, ``outbox.StaleStateError``
    (indexes into ``state``) when a guard of the state failed, ``ClientError`` on contention.
    """
    try:
        outbox.commit([*state, _row_marker(import_id, row, "ok")], events)
    except outbox.StaleStateError as stale:
        if len(state) in stale.failed:
            raise _already(import_id, row) from stale
        raise outbox.StaleStateError([i for i in stale.failed if i < len(state)]) from stale


def commit_row_errors(import_id: str, row: int, errors: Sequence[RowError]) -> None:
    """Record a bad row: its errors and its marker in one transaction."""
    pk, sk = error_key(import_id, row)
    item = {
        "pk": pk,
        "sk": sk,
        "entity": "ImportRowError",
        "row": row,
        "errors": [{"field": error.field, "reason": error.reason} for error in errors],
    }
    try:
        table.transact([_row_marker(import_id, row, "error"), Put(item=item)])
    except TransactionConflictError as conflict:
        raise _already(import_id, row) from conflict


def _already(import_id: str, row: int) -> RowAlreadyImportedError:
    outcome = row_outcome(import_id, row)
    assert outcome is not None, "the marker's condition failed, so the marker exists"
    return RowAlreadyImportedError(outcome)


def error_page(
    import_id: str, *, limit: int, cursor: str | None = None
) -> tuple[list[RowError], str | None]:
    """Rows in error, by row number (``limit`` rows a page; a row may hold several errors)."""
    pk, _ = job_key(import_id)
    if cursor:
        key = table.from_dynamo(table._decode_cursor(cursor))
        if key.get("pk") != pk or not str(key.get("sk", "")).startswith("ERROR#"):
            raise table.InvalidCursorError(cursor)
    page = table.query_page(pk, sk_from="ERROR#", sk_to="ERROR#~", limit=limit, cursor=cursor)
    return [error for item in page.items for error in _errors(item)], page.cursor


def all_errors(import_id: str) -> list[RowError]:
    found: list[RowError] = []
    cursor: str | None = None
    while True:
        errors, cursor = error_page(import_id, limit=500, cursor=cursor)
        found += errors
        if cursor is None:
            return found


def _errors(item: Item) -> list[RowError]:
    return [RowError(int(item["row"]), e["field"], e["reason"]) for e in item["errors"]]


# --- what rows write --------------------------------------------------------------------------


def legacy_invoice_item(
    row: ReceivableRow,
    import_id: str,
    row_number: int,
    *,
    opening_entry: JournalEntry | None = None,
) -> Item:
    """An open invoice of the legacy system, with its original number, dates and amounts.

    Keyed by its number (``INVOICE#legacy-<number>``): legacy numbers are unique per seller, so
    a number imported twice, for any customer, is refused. It carries the customer index keys
    (gsi1: ``CUSTOMER#<id>`` / ``INVOICE#<issue date>#<invoice id>``) and the sparse open-by-due
    keys (``open_due_pk`` = ``OPEN``, ``open_due_sk`` = ``<due date>#<customer>#<number>``) that
    collection runs query; whoever settles it removes those when it is paid.

    Its open amount is booked in the ledger by ``opening_entry``, written in the same
    transaction (the item names it: ``opening_entry_id``, ``opening_amount``): cash application
    then settles it like an invoice of ours, updating ``open_amount`` and ``status`` (see
    shared/store/invoices.py). Items imported before that entry existed have neither.
    """
    pk, sk = legacy_invoice_key(row.invoice_number)
    invoice_id = domain.legacy_invoice_id(row.invoice_number)
    issue, due = row.issue_date.isoformat(), row.due_date.isoformat()
    return {
        "pk": pk,
        "sk": sk,
        "entity": "Invoice",
        "invoice_id": invoice_id,
        "invoice_number": row.invoice_number,
        "customer_id": row.customer_id,
        "currency": row.currency,
        "issue_date": issue,
        "due_date": due,
        "original_amount": quantize(row.original_amount, row.currency),
        "open_amount": quantize(row.open_amount, row.currency),
        "status": "open",
        "legacy": True,
        "cash_applied": [],  # no payment of this system applied yet (shared/store/invoices.py)
        "import_id": import_id,
        "import_row": row_number,
        "gsi1pk": f"CUSTOMER#{row.customer_id}",
        "gsi1sk": f"INVOICE#{issue}#{invoice_id}",
        "open_due_pk": "OPEN",
        "open_due_sk": f"{due}#{row.customer_id}#{row.invoice_number}",
        "version": 1,
        "created_at": clock.iso(clock.now()),
        **(
            {"opening_entry_id": opening_entry.entry_id, "opening_amount": opening_entry.total}
            if opening_entry
            else {}
        ),
    }


def get_legacy_invoice(invoice_number: str) -> Item | None:
    return table.get(*legacy_invoice_key(invoice_number))


# --- contention -------------------------------------------------------------------------------


def is_contention(error: Exception) -> bool:
    """Another transaction held an item this one wrote (DynamoDB cancels rather than waits)."""
    if not isinstance(error, ClientError):
        return False
    if error.response["Error"]["Code"] != "TransactionCanceledException":
        return False
    reasons = error.response.get("CancellationReasons", [])
    return any(reason.get("Code") == "TransactionConflict" for reason in reasons)


def retrying_contention(write: Callable[[], T], attempts: int = CONTENTION_ATTEMPTS) -> T:
    """Run ``write``, again after a short jittered pause while it meets contention."""
    for attempt in range(attempts):
        try:
            return write()
        except ClientError as error:
            if not is_contention(error) or attempt == attempts - 1:
                raise
            time.sleep(_backoff(attempt))
    raise AssertionError("unreachable")


def _backoff(attempt: int) -> float:
    return min(1.0, 0.02 * 2**attempt) * (0.5 + random.random() / 2)
