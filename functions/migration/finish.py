"""Complete an import once every row is counted: write the error report, then mark it completed.

Whichever worker counts the last chunk gets here (the file worker, for a file without rows). The
report is written before the status changes, so a completed job always has its report; two
workers finishing at once write the same report, and the conditional status update lets exactly
one of them complete the job and emit ImportCompleted.
"""

from __future__ import annotations

from shared.adapters import documents
from shared.domain import imports as domain
from shared.domain.imports import ImportJob, JobStatus
from shared.observability import logger
from shared.store import imports as store

REPORT_CONTENT_TYPE = "text/csv; charset=utf-8"


def finish_if_done(import_id: str) -> ImportJob | None:
    """The job, completed by this call; None while rows are pending or when it was done before."""
    job = store.get_job(import_id)
    if job is None or job.status is not JobStatus.RUNNING or not job.done:
        return None
    key = domain.report_key(import_id)
    report = domain.error_report(store.all_errors(import_id))
    documents.write(key, report, content_type=REPORT_CONTENT_TYPE)
    done = store.complete(job, key)
    if done is not None:
        logger.info(
            "import completed",
            extra={
                "import_id": import_id,
                "kind": job.kind,
                "succeeded": job.succeeded,
                "failed": job.failed,
            },
        )
    return done
