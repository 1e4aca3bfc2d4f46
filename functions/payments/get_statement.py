"""GET /bank-statements/{statement_ref}: a statement file's import, as it stands (ar_clerk, admin).

Named by the file's SHA-256 (``file_sha256`` in an import's summary, the id a 202 answered).
"""

from __future__ import annotations

import json
import re
from typing import Any

from shared import errors
from shared.store import statements

SHA256 = re.compile(r"[0-9a-f]{64}")


def get_statement(sha256: str) -> dict[str, Any]:
    """The import's state: ``received``, ``importing``, ``imported`` (its summary) or ``failed``
    (its reason); 404 when no file with this SHA-256 was posted or dropped."""
    found = statements.get(sha256) if SHA256.fullmatch(sha256) else None
    if found is None:
        raise errors.NotFound(f"bank statement {sha256}")
    return statement_view(found)


def statement_view(item: dict[str, Any]) -> dict[str, Any]:
    summary = item.get("summary")
    return {
        "id": item["sha256"],
        "statement_id": item.get("statement_id"),
        "status": item["status"],
        "imported_by": item.get("imported_by"),
        "received_at": item.get("received_at"),
        "started_at": item.get("started_at"),
        "finished_at": item.get("finished_at"),
        "summary": json.loads(summary) if summary else None,
        "reason": item.get("reason"),
    }
