"""The triggers of customer credits: apply them by the customer's policy (oldest first).

app.py wires each function to its queue, schedule or stream; each imports its use case when
it runs, so a Lambda's cold start loads only what it runs.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from chalice.app import SQSEvent


def apply_credits(event: SQSEvent) -> dict[str, Any]:
    from functions.credits.apply_by_policy import apply_for_event
    from shared.adapters.bus_events import handle_batch

    return handle_batch(event.to_dict(), apply_for_event, event.context)
