"""The triggers of notifications: tell customers what happened to their orders and invoices.

app.py wires each function to its queue, schedule or stream; each imports its use case when
it runs, so a Lambda's cold start loads only what it runs.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from chalice.app import SQSEvent


def notify_customers(event: SQSEvent) -> dict[str, Any]:
    from functions.notifications.notify_customer import notify_customer
    from shared.adapters.bus_events import handle_batch

    return handle_batch(event.to_dict(), notify_customer, event.context)
