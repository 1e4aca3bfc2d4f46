"""Runtime settings, read once from the environment the deployment (or the local stack) sets."""

from __future__ import annotations

import os
from functools import cache

from pydantic import BaseModel, ConfigDict


class Settings(BaseModel):
    model_config = ConfigDict(frozen=True)

    table_name: str
    idempotency_table_name: str
    event_bus_name: str
    documents_bucket: str = ""
    sender_email: str = ""  # the verified SES identity customer e-mails come from
    import_rows_queue_url: str = ""  # where the import file worker fans rows out to
    max_body_bytes: int = 256 * 1024
    idempotency_ttl_seconds: int = 96 * 3600  # Stripe retries for 3 days; keep a margin.
    outbox_publish_delay_seconds: int = 120  # the sweeper leaves younger events to the stream


@cache
def settings() -> Settings:
    """The settings of this process (tests that change the environment call ``cache_clear``)."""
    return Settings(
        table_name=os.environ["TABLE_NAME"],
        idempotency_table_name=os.environ["IDEMPOTENCY_TABLE_NAME"],
        event_bus_name=os.environ["EVENT_BUS_NAME"],
        documents_bucket=os.environ.get("DOCUMENTS_BUCKET", ""),
        sender_email=os.environ.get("SENDER_EMAIL", ""),
        import_rows_queue_url=os.environ.get("IMPORT_ROWS_QUEUE_URL", ""),
    )
