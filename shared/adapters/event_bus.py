"""EventBridge publisher: PutEvents in chunks of ten, telling which entries did not make it."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from shared.adapters import aws

MAX_ENTRIES_PER_CALL = 10


def put_events(entries: Sequence[dict[str, Any]]) -> list[int]:
    """Put every entry; return the indexes (into ``entries``) that EventBridge rejected."""
    failed: list[int] = []
    for start in range(0, len(entries), MAX_ENTRIES_PER_CALL):
        chunk = entries[start : start + MAX_ENTRIES_PER_CALL]
        answer = aws.client("events").put_events(Entries=list(chunk))
        if answer.get("FailedEntryCount"):
            failed += [
                start + i for i, result in enumerate(answer["Entries"]) if "ErrorCode" in result
            ]
    return failed
