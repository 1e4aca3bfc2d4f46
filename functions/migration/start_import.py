"""The import file worker: a CSV file under imports/<kind>/ -> a job, and its rows fanned out.

Triggered by S3's "Object Created" event (S3 -> EventBridge default bus -> rule -> SQS). The file
is read once, whole (at most ``MAX_FILE_BYTES``), and named by its content: the import id is a
hash of the kind and the bytes, so the same file dropped twice - or uploaded through the API and
dropped as well - is one job, and the second arrival adds nothing.

A file that cannot be imported at all (too large, not UTF-8, not CSV, a header that does not fit
the kind) becomes a failed job with the reason, and nothing else. Otherwise the job starts
(ImportStarted) with its row count, the rows go to the row queue in chunks, and the job records
that the fan-out is complete. A crash in between is redelivered: the job is found running but not
fanned out, and the chunks are sent again (the row worker counts each chunk once).
"""

from __future__ import annotations

import hashlib
from urllib.parse import unquote_plus

from functions.migration.fanout import send_chunks
from functions.migration.finish import finish_if_done
from shared import clock
from shared.adapters import documents
from shared.adapters.bus_events import ObjectCreated
from shared.domain import imports as domain
from shared.domain.imports import ImportJob, InvalidFileError, JobStatus, Kind
from shared.observability import logger
from shared.store import imports as store


def start_from_message(body: str) -> ImportJob | None:
    """One SQS message: the S3 Object Created event as EventBridge delivers it."""
    envelope = ObjectCreated.model_validate_json(body)
    return start_import(envelope.detail.bucket.name, envelope.detail.object.key)


def start_import(bucket: str, key: str) -> ImportJob | None:
    """The job of the object at ``key``; None when the object is no import file (ignored)."""
    kind = domain.kind_of_key(key)
    if kind is None or bucket != documents.bucket():
        logger.warning("not an import file; ignored", extra={"bucket": bucket, "key": key})
        return None
    try:
        stored = _read(key)
    except documents.NoSuchObjectError:
        logger.warning("the file is gone; nothing to import", extra={"key": key})
        return None
    except documents.ObjectTooLargeError as too_large:
        import_id = domain.unread_import_id(bucket, key, too_large.version)
        reason = (
            f"the file is larger than {domain.MAX_FILE_BYTES} bytes (10 MB); "
            "split it into smaller files"
        )
        return _reject(_new_job(import_id, kind, key, None), reason)
    return _import_file(kind, stored)


def _import_file(kind: Kind, stored: documents.StoredObject) -> ImportJob | None:
    import_id = domain.import_id(kind, stored.content)
    existing = store.get_job(import_id)
    if existing is not None and not _unfinished_start(existing):
        logger.info("file imported before; nothing to add", extra={"import_id": import_id})
        return existing
    sha256 = hashlib.sha256(stored.content).hexdigest()
    job = existing or _new_job(import_id, kind, stored.key, sha256)
    job = job.model_copy(update={"uploaded_by": job.uploaded_by or _uploader(stored)})
    try:
        parsed = domain.read(kind, stored.content)
    except InvalidFileError as invalid:
        return _reject(job, invalid.reason)

    if job.status is JobStatus.PENDING:
        running = job.model_copy(
            update={
                "status": JobStatus.RUNNING,
                "key": stored.key,
                "sha256": sha256,
                "total_rows": len(parsed.rows),
                "started_at": clock.now(),
            }
        )
        if not store.begin(running, domain.started(running)):
            current = store.get_job(import_id)
            if current is None or not _unfinished_start(current):
                return current
        job = running
    chunks = send_chunks(import_id, parsed)
    store.mark_fanned_out(import_id, chunks)
    logger.info(
        "import started",
        extra={"import_id": import_id, "kind": kind, "rows": len(parsed.rows), "chunks": chunks},
    )
    return finish_if_done(import_id) or store.get_job(import_id)


def _unfinished_start(job: ImportJob) -> bool:
    """A job the file worker still has work on: not started yet, or not wholly fanned out."""
    return job.status is JobStatus.PENDING or (
        job.status is JobStatus.RUNNING and not job.fanned_out
    )


def _read(key: str) -> documents.StoredObject:
    """The object. S3 notifications may give the key URL-encoded ("a+b.csv" for "a b.csv"): a
    key that reads as missing (or, without s3:ListBucket, as denied) is tried decoded."""
    try:
        return documents.read(key, limit=domain.MAX_FILE_BYTES)
    except (documents.NoSuchObjectError, documents.ObjectAccessDeniedError):
        decoded = unquote_plus(key)
        if decoded == key:
            raise
        return documents.read(decoded, limit=domain.MAX_FILE_BYTES)


def _uploader(stored: documents.StoredObject) -> str | None:
    return stored.metadata.get("uploaded-by")


def _new_job(import_id: str, kind: Kind, key: str, sha256: str | None) -> ImportJob:
    return ImportJob(
        import_id=import_id,
        kind=kind,
        status=JobStatus.PENDING,
        bucket=documents.bucket(),
        key=key,
        sha256=sha256,
        created_at=clock.now(),
    )


def _reject(job: ImportJob, reason: str) -> ImportJob | None:
    now = clock.now()
    failed = job.model_copy(
        update={"status": JobStatus.FAILED, "reason": reason, "started_at": now, "finished_at": now}
    )
    if store.begin(failed, domain.rejected(failed)):
        logger.info("import rejected", extra={"import_id": job.import_id, "reason": reason})
        return failed
    return store.get_job(job.import_id)
