"""The triggers of invoicing: issue invoices for shipments, deliver them.

app.py wires each function to its queue, schedule or stream; each imports its use case when
it runs, so a Lambda's cold start loads only what it runs.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from chalice.app import SQSEvent


def issue_invoices(event: SQSEvent) -> dict[str, Any]:
    from functions.invoicing.issue_invoice import issue_for_event
    from shared.adapters.bus_events import handle_batch

    return handle_batch(event.to_dict(), issue_for_event, event.context)


def deliver_invoices(event: SQSEvent) -> dict[str, Any]:
    from functions.invoicing.deliver_invoice import deliver_invoice
    from shared.adapters.bus_events import handle_batch

    return handle_batch(event.to_dict(), deliver_invoice, event.context)
