"""Hand a file's rows to the row queue: one message per chunk, ten messages per SendMessageBatch.

The row queue is a work queue this function fills (no EventBridge rule feeds it): the hop is one
file -> many messages, which a rule cannot express. Every message of a file is deterministic
(``domain.chunks``), so sending them again after a crash is harmless: the row worker counts each
chunk once and applies each row once.
"""

from __future__ import annotations

from functions.migration.messages import ChunkMessage, ChunkRow
from shared.adapters import work_queue
from shared.config import settings
from shared.domain import imports as domain
from shared.domain.imports import ParsedFile


def send_chunks(import_id: str, parsed: ParsedFile) -> int:
    """Send every chunk of ``parsed``; answers how many messages that was."""
    bodies = [
        ChunkMessage(
            import_id=import_id,
            kind=parsed.kind,
            chunk=chunk.number,
            columns=list(parsed.columns),
            rows=[ChunkRow(row=row.row, values=list(row.values)) for row in chunk.rows],
        ).model_dump_json()
        for chunk in domain.chunks(parsed)
    ]
    return work_queue.send_all(settings().import_rows_queue_url, bodies)
