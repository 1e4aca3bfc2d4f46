"""The triggers of partner webhooks: deliver the events partners subscribed to.

app.py wires each function to its queue, schedule or stream; each imports its use case when
it runs, so a Lambda's cold start loads only what it runs.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from chalice.app import SQSEvent


def deliver_webhooks(event: SQSEvent) -> dict[str, Any]:
    from functions.webhooks.deliver import deliver_event
    from shared.adapters import sqs_backoff

    return sqs_backoff.handle_batch(event.to_dict(), deliver_event, event.context)
