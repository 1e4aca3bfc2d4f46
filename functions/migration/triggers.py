"""The triggers of data migration: start an import from a dropped file, import its rows in chunks.

app.py wires each function to its queue, schedule or stream; each imports its use case when
it runs, so a Lambda's cold start loads only what it runs.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from chalice.app import SQSEvent


def start_imports(event: SQSEvent) -> dict[str, Any]:
    from functions.migration.start_import import start_from_message
    from shared.adapters.bus_events import handle_bodies

    return handle_bodies(event.to_dict(), start_from_message, event.context)


def import_rows(event: SQSEvent) -> dict[str, Any]:
    from functions.migration.import_rows import import_chunk_message
    from shared.adapters.bus_events import handle_bodies

    return handle_bodies(event.to_dict(), import_chunk_message, event.context)
