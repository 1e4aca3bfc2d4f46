"""POST /imports/{kind}: a CSV body, stored under imports/<kind>/ and imported from there.

The API checks what it can at once (size, UTF-8, CSV, the header for the kind) and answers 422
for a file that would be rejected anyway; otherwise it records a pending job and stores the file
where a bucket drop would land. From there the import is the same as a drop's: S3 announces the
object to EventBridge and the file worker takes it. The import id is the file's content hash, so
the same file uploaded again (or dropped too) names the same import and adds nothing.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

from pydantic import ConfigDict

from shared import clock, errors
from shared.adapters import documents
from shared.domain import imports as domain
from shared.domain.access import Principal
from shared.domain.imports import ImportJob, InvalidFileError, JobStatus, Kind
from shared.model import Model
from shared.store import imports as store

CONTENT_TYPE = "text/csv; charset=utf-8"


class UploadFingerprint(Model):
    """What an Idempotency-Key is bound to: the kind and the file's SHA-256."""

    model_config = ConfigDict(frozen=True)

    kind: str
    sha256: str


@dataclass(frozen=True)
class Upload:
    kind: Kind
    content: bytes
    import_id: str
    fingerprint: UploadFingerprint


def kind_of(value: str) -> Kind:
    if value not in domain.KINDS:
        raise errors.InvalidQuery(
            [
                {
                    "in": "path",
                    "parameter": "import_ref",
                    "detail": f"one of {', '.join(domain.KINDS)}",
                }
            ]
        )
    return value


def receive(kind_text: str, body: bytes | str | None) -> Upload:
    """The upload, once the file is one the import would not reject whole."""
    kind = kind_of(kind_text)
    content = body.encode() if isinstance(body, str) else body or b""
    if len(content) > domain.MAX_UPLOAD_BYTES:
        raise errors.TooLarge(
            f"the file exceeds {domain.MAX_UPLOAD_BYTES} bytes through the API; drop files of "
            f"up to {domain.MAX_FILE_BYTES} bytes in the bucket under imports/{kind}/",
        )
    try:
        domain.read(kind, content)
    except InvalidFileError as invalid:
        raise errors.Unprocessable("invalid-import-file", invalid.reason) from None
    digest = hashlib.sha256(content).hexdigest()
    return Upload(
        kind=kind,
        content=content,
        import_id=domain.import_id(kind, content),
        fingerprint=UploadFingerprint(kind=kind, sha256=digest),
    )


def start(upload: Upload, principal: Principal) -> dict[str, Any]:
    """Store the file (unless this content was imported before); answers where to follow it."""
    job = store.get_job(upload.import_id)
    if job is None or job.status is JobStatus.PENDING:
        key = domain.object_key(upload.kind, upload.import_id)
        store.create_pending(
            ImportJob(
                import_id=upload.import_id,
                kind=upload.kind,
                status=JobStatus.PENDING,
                bucket=documents.bucket(),
                key=key,
                sha256=upload.fingerprint.sha256,
                uploaded_by=principal.principal_id,
                created_at=clock.now(),
            )
        )
        documents.write(
            key,
            upload.content,
            content_type=CONTENT_TYPE,
            metadata={"uploaded-by": principal.principal_id},
        )
        job = store.get_job(upload.import_id)
    return {
        "import_id": upload.import_id,
        "kind": upload.kind,
        "status": job.status.value if job else JobStatus.PENDING.value,
        "status_url": f"/imports/{upload.import_id}",
    }
