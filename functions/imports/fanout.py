"""Hand a file's rows to the row queue: one message per chunk, ten messages per SendMessageBatch.

The row queue is a work queue this function fills (no EventBridge rule feeds it): the hop is one
file -> many messages, which a rule cannot express. Every message of a file is deterministic
(``domain.chunks``), so sending them again after a crash is harmless: the row worker counts each
chunk once and applies each row once.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence

from functions.imports.messages import ChunkMessage, ChunkRow
from shared.adapters import aws
from shared.config import settings
from shared.domain import imports as domain
from shared.domain.imports import ParsedFile

BATCH_ENTRIES = 10  # SendMessageBatch takes at most ten messages
BATCH_BYTES = 240_000  # ... and at most 256 KiB in all
SEND_ATTEMPTS = 5


class FanOutError(RuntimeError):
    """SQS kept refusing some messages; the file message is retried (and sends them again)."""


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
    for batch in _batches(bodies):
        _send(batch)
    return len(bodies)


def _batches(bodies: Sequence[str]) -> Iterator[list[str]]:
    batch: list[str] = []
    size = 0
    for body in bodies:
        length = len(body.encode())
        if batch and (len(batch) == BATCH_ENTRIES or size + length > BATCH_BYTES):
            yield batch
            batch, size = [], 0
        batch.append(body)
        size += length
    if batch:
        yield batch


def _send(bodies: list[str]) -> None:
    queue_url = settings().import_rows_queue_url
    if not queue_url:
        raise RuntimeError("IMPORT_ROWS_QUEUE_URL is not set")
    entries = [{"Id": str(n), "MessageBody": body} for n, body in enumerate(bodies)]
    for attempt in range(SEND_ATTEMPTS):
        answer = aws.client("sqs").send_message_batch(QueueUrl=queue_url, Entries=entries)
        failed = answer.get("Failed", [])
        if not failed:
            return
        if any(failure.get("SenderFault") for failure in failed):
            raise FanOutError(f"SQS refused chunk messages: {failed}")
        retry = {failure["Id"] for failure in failed}
        entries = [entry for entry in entries if entry["Id"] in retry]
        time.sleep(0.1 * 2**attempt)
    raise FanOutError(f"SQS kept failing {len(entries)} chunk message(s)")
