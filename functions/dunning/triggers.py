"""The triggers of collections: the daily run, and the reminder worker it fans customers out to.

app.py wires each function to its queue, schedule or stream; each imports its use case when
it runs, so a Lambda's cold start loads only what it runs.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from chalice.app import CloudWatchEvent, SQSEvent


def run_collections(event: CloudWatchEvent) -> dict[str, Any]:
    from datetime import datetime

    from functions.dunning.run import scheduled_as_of, start_run

    return start_run(scheduled_as_of(datetime.fromisoformat(event.time)))


def remind_customers(event: SQSEvent) -> dict[str, Any]:
    from functions.dunning.remind_customer import remind_from_message
    from shared.adapters.bus_events import handle_bodies

    return handle_bodies(event.to_dict(), remind_from_message, event.context)
