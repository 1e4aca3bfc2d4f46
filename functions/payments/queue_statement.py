"""A posted bank statement too large to import while the caller waits: stored, imported by a worker.

Importing costs one transaction per booked credit, so a large file would outlast API Gateway's
29 s. A file over ``STATEMENT_SYNC_MAX_BYTES`` (0: every file) is stored in the documents bucket
under ``inbox/camt053/api/<sha256>.xml`` (SSE-KMS), which reaches the statement worker the way a
dropped file does (S3 -> the default bus -> the ``bank-statements`` queue), and the answer is
202 with the statement's status URL. The same file again answers its import's state; a file
whose import failed is stored again, and imported again.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from functions.payments.get_statement import statement_view
from functions.payments.import_statement import INBOX, XML, StatementUpload
from shared.adapters import documents
from shared.config import settings
from shared.observability import logger
from shared.store import statements

API_UPLOADS = INBOX + "api/"


@dataclass(frozen=True)
class QueuedStatement:
    status: int  # 202 while the worker has it, 200 once it was imported
    body: dict[str, Any]
    location: str


def wanted(upload: StatementUpload) -> bool:
    """Whether this file is imported by the worker rather than while the caller waits."""
    return len(upload.content) > settings().statement_sync_max_bytes


def queue_statement(upload: StatementUpload, *, by: str) -> QueuedStatement:
    """Store the file for the worker (unless it was imported); the statement as it stands."""
    sha256 = upload.fingerprint.sha256
    known = statements.get(sha256)
    if known is None or known.get("status") != statements.IMPORTED:
        key = f"{API_UPLOADS}{sha256}.xml"
        # Stored before it is recorded: a record never names a file that is not there.
        documents.write(key, upload.content, content_type=XML, metadata={"uploaded-by": by})
        statements.receive(sha256, statement_id=upload.parsed.statement_id, key=key, by=by)
        known = statements.get(sha256)
        logger.info("statement queued for import", extra={"sha256": sha256})
    assert known is not None, "recorded above"
    view = statement_view(known)
    status = 200 if view["status"] == statements.IMPORTED else 202
    return QueuedStatement(status, view, f"/bank-statements/{sha256}")
