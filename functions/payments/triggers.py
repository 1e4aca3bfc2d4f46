"""The triggers of payments: record gateway events, import bank statements, apply cash.

app.py wires each function to its queue, schedule or stream; each imports its use case when
it runs, so a Lambda's cold start loads only what it runs.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from chalice.app import SQSEvent


def record_gateway_events(event: SQSEvent) -> dict[str, Any]:
    from functions.payments.record_gateway_event import record_gateway_event
    from shared.adapters.bus_events import handle_batch

    return handle_batch(event.to_dict(), record_gateway_event, event.context)


def import_bank_statements(event: SQSEvent) -> dict[str, Any]:
    from functions.payments.import_statement import import_from_message
    from shared.adapters.bus_events import process_records

    context: Any = event.context  # the Lambda context (Chalice types it as a dict)

    def time_left() -> float:
        return float(context.get_remaining_time_in_millis()) / 1000

    def run(record: Any) -> object:
        receives = int(record.attributes.approximate_receive_count or 1)
        return import_from_message(record.body, receives, time_left if context else None)

    return process_records(event.to_dict(), run, event.context)


def apply_cash(event: SQSEvent) -> dict[str, Any]:
    from functions.payments.apply_cash import apply_for_event
    from shared.adapters.bus_events import handle_batch

    return handle_batch(event.to_dict(), apply_for_event, event.context)
