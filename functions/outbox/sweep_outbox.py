"""Republish events whose outbox marker outlived the stream path (scheduled)."""

from __future__ import annotations

from datetime import timedelta

from functions.outbox.publish_events import publish
from shared import clock
from shared.config import settings
from shared.model import Model
from shared.store import outbox


class SweepResult(Model):
    found: int
    published: int


def sweep() -> SweepResult:
    cutoff = clock.iso(clock.now() - timedelta(seconds=settings().outbox_publish_delay_seconds))
    found = published = 0
    for shard in range(outbox.OUTBOX_SHARDS):
        while pending := outbox.pending_before(shard, cutoff):
            items = outbox.load_events(pending)
            rejected = publish(items)
            found += len(pending)
            published += len(items) - len(rejected)
            if rejected or len(items) < len(pending):
                break  # leave the rest for the next run rather than spin on a failing bus
    return SweepResult(found=found, published=published)
