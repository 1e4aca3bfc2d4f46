"""The triggers of orders: confirm received orders, fill backorders as stock arrives.

app.py wires each function to its queue, schedule or stream; each imports its use case when
it runs, so a Lambda's cold start loads only what it runs.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from chalice.app import SQSEvent


def confirm_orders(event: SQSEvent) -> dict[str, Any]:
    from functions.orders.confirm_order import confirm_received_order
    from shared.adapters.bus_events import BusEvent, handle_batch

    def confirm(message: BusEvent) -> None:
        confirm_received_order(
            message.detail.metadata.aggregate_id,
            message.detail.metadata.event_id,
            message.detail.data,
        )

    return handle_batch(event.to_dict(), confirm, event.context)


def allocate_backorders(event: SQSEvent) -> dict[str, Any]:
    from functions.orders.allocate_backorders import fill_backorders
    from shared.adapters.bus_events import BusEvent, handle_batch

    def allocate(message: BusEvent) -> None:
        fill_backorders(message.detail.data["sku"], int(message.detail.data["available"]))

    return handle_batch(event.to_dict(), allocate, event.context)
