"""GET /imports/{import_id} (progress, and the error report once completed) and its error rows.

Staff only: partners may read orders and customers, never a company's migration.
"""

from __future__ import annotations

from typing import Any

from functions.accounts.paging import PageQuery, invalid_cursor
from shared import errors
from shared.adapters import documents
from shared.domain import imports as domain
from shared.domain.imports import ImportJob, JobStatus
from shared.store import imports as store
from shared.store import table

REPORT_LINK_SECONDS = 300


def _job(import_id: str) -> ImportJob:
    job = store.get_job(import_id) if domain.is_import_id(import_id) else None
    if job is None:
        raise errors.NotFound(f"import {import_id}")
    return job


def get_import(import_id: str) -> dict[str, Any]:
    """The job's progress; a completed one links its error report for five minutes."""
    job = _job(import_id)
    wire = job.to_wire()
    wire["errors_url"] = f"/imports/{import_id}/errors"
    wire["error_report"] = None
    if job.status is JobStatus.COMPLETED and job.report_key:
        wire["error_report"] = {
            "key": job.report_key,
            "url": documents.share(
                job.report_key,
                seconds=REPORT_LINK_SECONDS,
                filename=f"{import_id}-errors.csv",
            ),
            "expires_in": REPORT_LINK_SECONDS,
        }
    return wire


def list_errors(import_id: str, query: PageQuery) -> dict[str, Any]:
    """One page of the rows in error (``limit`` rows; a row may carry several errors)."""
    _job(import_id)
    try:
        errors, cursor = store.error_page(import_id, limit=query.limit, cursor=query.cursor)
    except table.InvalidCursorError:
        raise invalid_cursor() from None
    return {
        "import_id": import_id,
        "errors": [error.to_wire() for error in errors],
        "next_cursor": cursor,
    }
