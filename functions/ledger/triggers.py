"""The triggers of the ledger: the nightly journal export.

app.py wires each function to its queue, schedule or stream; each imports its use case when
it runs, so a Lambda's cold start loads only what it runs.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from chalice.app import CloudWatchEvent


def export_journal(event: CloudWatchEvent) -> dict[str, Any]:
    from datetime import datetime

    from functions.ledger.export import export_day
    from functions.reporting.snapshot import scheduled_day

    return export_day(scheduled_day(datetime.fromisoformat(event.time)))
