"""The triggers of reporting: the nightly snapshot of aging and KPIs.

app.py wires each function to its queue, schedule or stream; each imports its use case when
it runs, so a Lambda's cold start loads only what it runs.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from chalice.app import CloudWatchEvent


def run_reports(event: CloudWatchEvent) -> dict[str, Any]:
    from datetime import datetime

    from functions.reporting.snapshot import scheduled_day, take

    return take(scheduled_day(datetime.fromisoformat(event.time)))
