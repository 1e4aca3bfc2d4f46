"""The daily collection run: find what is due, and hand each customer to the reminder worker.

The run reads the sparse ``open_by_due`` index (a Query up to ``as_of`` plus the longest
pre-due lead of any policy, never a Scan: what it reads grows with what is due, not with the
table), groups the invoices by customer, and sends one message per customer to the
collection-reminders queue (``SendMessageBatch``, ten a call). Everything else - planning,
recording, e-mailing - is the worker's (``remind_customer.py``), per customer and exactly once,
so a run started twice the same day, or a message delivered twice, adds nothing.

A dry run plans every customer in process and answers the plans: what would be sent, with which
fees and interest, and what would be skipped and why. It writes and sends nothing. A run for a
day after today is always a dry run (a preview): fees and interest are posted on the day they
accrue, and days that have not happened accrue nothing yet.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime, timedelta
from typing import Any

from pydantic import ConfigDict

from functions.dunning.remind_customer import ReminderMessage, collection_day, preview
from shared import clock
from shared.adapters import work_queue
from shared.config import settings
from shared.domain.dates import BusinessDate
from shared.domain.dunning import MAX_LEAD_DAYS
from shared.domain.omittable import Omittable
from shared.model import Model
from shared.observability import logger
from shared.store import dunning as store
from shared.store import readable


class CollectionRunRequest(Model):
    """POST /collection-runs: the day to collect for (default: today), and whether to only look."""

    model_config = ConfigDict(extra="forbid")

    as_of: Omittable[BusinessDate] = None
    dry_run: bool = False


def scheduled_as_of(event_time: datetime) -> date:
    """The day a scheduled run collects for: the event's calendar day in the collection zone."""
    return collection_day(event_time)


def request_run(request: CollectionRunRequest) -> dict[str, Any]:
    """The HTTP request's run: for ``as_of`` or today (in the collection time zone)."""
    return start_run(request.as_of or collection_day(clock.now()), dry_run=request.dry_run)


def start_run(as_of: date, *, dry_run: bool = False) -> dict[str, Any]:
    """The run for ``as_of``; one for a day after today only previews it (see the module)."""
    today = collection_day(clock.now())
    future = as_of > today
    with readable.skipping() as skipped:  # an index item that does not read is named, not fatal
        answer = _start_run(as_of, dry_run=dry_run or future)
    if future:
        answer["dry_run_reason"] = (
            f"{as_of.isoformat()} is after today ({today.isoformat()}): a future day is only "
            "previewed; nothing is posted or sent until the day comes"
        )
    return answer | {"skipped": readable.wire(skipped)}


def _start_run(as_of: date, *, dry_run: bool) -> dict[str, Any]:
    due = store.due_through(as_of + timedelta(days=MAX_LEAD_DAYS))
    run_id = f"run_{as_of:%Y%m%d}_{uuid.uuid4().hex[:12]}"
    answer: dict[str, Any] = {
        "run_id": run_id,
        "as_of": as_of.isoformat(),
        "dry_run": dry_run,
        "customers": len(due.by_customer),
        "invoices": due.invoices,
        "index_items_read": due.items_read,
    }
    if dry_run:
        return answer | {"plans": _plans(as_of, due.by_customer)}
    work_queue.send_all(settings().collection_queue_url, _messages(run_id, as_of, due.by_customer))
    logger.info("collection run started", extra=answer)
    return answer


def _plans(as_of: date, by_customer: dict[str, list[str]]) -> list[dict[str, Any]]:
    """Each customer's plan, as the worker would make it now (customers with nothing left out)."""
    plans = (preview(customer_id, as_of, ids) for customer_id, ids in by_customer.items())
    return [plan for plan in plans if plan is not None]


def _messages(run_id: str, as_of: date, by_customer: dict[str, list[str]]) -> list[str]:
    return [
        ReminderMessage(
            customer_id=customer_id, as_of=as_of, invoice_ids=invoice_ids, run_id=run_id
        ).model_dump_json()
        for customer_id, invoice_ids in by_customer.items()
    ]
