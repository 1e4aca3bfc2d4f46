"""The service report (GET /reports/service?from=&to=): how cases were handled in a period.

Cases opened in the period (their first response times, and whether it came within the due
time), cases closed in it (their resolution times), and the survey answers given in it. Read
from the cases' status index (gsi2), never a Scan.
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from pydantic import ConfigDict, Field, model_validator

from shared import clock
from shared.domain import cases as domain
from shared.domain.cases import CaseStatus
from shared.domain.dates import BusinessDate
from shared.model import Model
from shared.store import cases as store
from shared.store.table import Item

MAX_DAYS = 366


class ServiceQuery(Model):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    start: BusinessDate = Field(alias="from")
    end: BusinessDate = Field(alias="to")

    @model_validator(mode="after")
    def _ordered(self) -> ServiceQuery:
        if self.start > self.end:
            raise ValueError("'from' is after 'to'")
        if (self.end - self.start).days > MAX_DAYS:
            raise ValueError(f"a report covers {MAX_DAYS} days at most")
        return self


def service_report(query: ServiceQuery) -> dict[str, Any]:
    return service_between(query.start, query.end)


def service_between(start: date, end: date) -> dict[str, Any]:
    """The service figures of ``start``..``end`` (both included): GET /reports/service, the
    ``service`` block of GET /reports/kpis and the dashboard's panel."""
    since, until = start.isoformat(), (end + timedelta(days=1)).isoformat()
    opened = [
        case
        for status in CaseStatus
        for case in store.by_status(status.value, since=since, until=until, limit=1000)
    ]
    closed = [
        case
        for case in store.by_status(CaseStatus.CLOSED.value, until=until, limit=1000)
        if since <= str(case.get("resolved_at", "")) < until
    ]
    scores = [int(answer["score"]) for answer in store.surveys(since, until)]
    figures = domain.service_figures(
        [_timing(case) for case in opened], [_timing(case) for case in closed], scores
    )
    return {"from": start.isoformat(), "to": end.isoformat(), **figures}


def _timing(case: Item) -> domain.Timing:
    amount = case.get("disputed_amount")
    return domain.Timing(
        opened_at=clock.parse(case["opened_at"]),
        due_at=clock.parse(case["due_at"]),
        first_response_at=clock.parse_optional(case.get("first_response_at")),
        resolved_at=clock.parse_optional(case.get("resolved_at")),
        priority=domain.Priority(case.get("priority", domain.Priority.NORMAL.value)),
        kind=domain.CaseKind(case["kind"]),
        reason=case.get("reason") or case.get("request_type"),
        outcome=(case.get("resolution") or {}).get("outcome"),
        disputed_amount=Decimal(str(amount)) if amount is not None else None,
        currency=case.get("currency"),
    )
