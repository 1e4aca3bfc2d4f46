"""Customer behaviour from the lake: GET /customers/{id}/behaviour, GET /reports/behaviour, and
the risk scores the collections worklist and the dashboard rank by.

The window is ``months`` calendar months ending with ``as_of`` (default today, 12 months): from
the day after the same day ``months`` earlier to ``as_of``, both included. Each customer answers
one ``Behaviour`` per currency (shared/domain/behaviour.py, docs/reports.md "Customer
behaviour"), its suggested credit limit beside the limit set on the account (``set``, in the
account's currency; null for another currency).

``behaviour_of`` is the one place the lake is queried: today the lake bucket is copied to a
temporary folder and DuckDB runs sql/behaviour.sql over it.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, timedelta
from decimal import Decimal
from enum import StrEnum
from typing import Any

from pydantic import ConfigDict, Field, model_validator

from shared import clock, errors
from shared.domain.access import Principal
from shared.domain.behaviour import Behaviour, BehaviourReport
from shared.domain.dates import BusinessDate
from shared.model import Model
from shared.store import customers

DEFAULT_MONTHS = 12
MAX_MONTHS = 36
MAX_LIMIT = 500
MAX_ID_LENGTH = 64
LAKE_WAIT_SECONDS = 20  # within API Gateway's 29 s


class BehaviourSort(StrEnum):
    RISK = "risk"  # riskiest first
    NAME = "name"  # by customer name


class BehaviourQuery(Model):
    """GET /customers/{id}/behaviour: ``as_of`` (default today, not after it), ``months``."""

    model_config = ConfigDict(extra="forbid")

    as_of: BusinessDate | None = None
    months: int = Field(default=DEFAULT_MONTHS, ge=1, le=MAX_MONTHS)

    @model_validator(mode="after")
    def _past(self) -> BehaviourQuery:
        if self.as_of is not None and self.as_of > clock.now().date():
            raise ValueError(f"'as_of' ({self.as_of}) is after today")
        return self

    def window(self) -> tuple[date, date]:
        as_of = self.as_of or clock.now().date()
        return window_start(as_of, self.months), as_of


class BehaviourReportQuery(BehaviourQuery):
    """GET /reports/behaviour: also ``sort`` (risk or name) and ``limit``."""

    sort: BehaviourSort = BehaviourSort.RISK
    limit: int = Field(default=100, ge=1, le=MAX_LIMIT)


def window_start(as_of: date, months: int) -> date:
    """The first day of the ``months`` calendar months ending with ``as_of``."""
    index = as_of.year * 12 + as_of.month - 1 - months
    year, month = divmod(index, 12)
    month += 1
    following = date(year + (month == 12), month % 12 + 1, 1)
    last_day = (following - timedelta(days=1)).day
    return date(year, month, min(as_of.day, last_day)) + timedelta(days=1)


def behaviour_of(customer_id: str | None, as_of: date, start: date) -> BehaviourReport:
    """Every customer's behaviour (one customer's, when named) over ``start``..``as_of``."""
    from shared.config import settings
    from shared.lake import athena, engine, queries, reports

    if not settings().lake_bucket:
        raise errors.Unavailable(
            "lake-not-configured",
            "The lake is not configured",
            "this deployment has no lake bucket: customer behaviour is not available",
        )
    try:
        found_rows = engine.rows(queries.behaviour(start, as_of), within=LAKE_WAIT_SECONDS)
    except athena.StillRunning:
        raise errors.busy() from None  # retry shortly
    found = reports.behaviour_report(found_rows, start, as_of)
    if customer_id is None:
        return found
    mine = tuple(one for one in found.customers if one.customer_id == customer_id)
    return BehaviourReport(found.start, found.as_of, mine)


def customer_behaviour(
    customer_id: str, query: BehaviourQuery, principal: Principal
) -> dict[str, Any]:
    """One customer's behaviour; another partner's customer is indistinguishable from a missing
    one (404)."""
    if len(customer_id) > MAX_ID_LENGTH or not principal.may_act_for(customer_id):
        raise errors.NotFound(f"customer {customer_id}")
    customer = customers.get(customer_id)
    if customer is None:
        raise errors.NotFound(f"customer {customer_id}")
    start, as_of = query.window()
    found = behaviour_of(customer_id, as_of, start)
    limits = {customer_id: (customer.currency, customer.field_wire("credit_limit"))}
    return {
        **_period(found),
        "customer_id": customer_id,
        "customer_name": customer.legal_name,
        "currencies": [_wire(one, limits) for one in found.customers],
    }


def behaviour_report(query: BehaviourReportQuery) -> dict[str, Any]:
    """Every customer's behaviour, riskiest (or by name) first, cut at ``limit``."""
    start, as_of = query.window()
    found = behaviour_of(None, as_of, start)
    ranked = riskiest(found.customers) if query.sort is BehaviourSort.RISK else by_name(found)
    shown = ranked[: query.limit]
    accounts = customers.get_many({one.customer_id for one in shown})
    limits = {c.customer_id: (c.currency, c.field_wire("credit_limit")) for c in accounts}
    return {
        **_period(found),
        "sort": query.sort.value,
        "customers": [_wire(one, limits) for one in shown],
        "customers_total": len(ranked),
        "truncated": len(ranked) > len(shown),
    }


def riskiest(found: Iterable[Behaviour]) -> list[Behaviour]:
    return sorted(found, key=lambda one: (-one.risk_score, one.customer_id, one.currency))


def by_name(found: BehaviourReport) -> list[Behaviour]:
    return sorted(
        found.customers,
        key=lambda one: ((one.customer_name or one.customer_id).casefold(), one.customer_id),
    )


def risk_scores(as_of: date, months: int = DEFAULT_MONTHS) -> dict[str, Decimal]:
    """Each customer's risk score (its highest over its currencies) over the window."""
    found = behaviour_of(None, as_of, window_start(as_of, months))
    scores: dict[str, Decimal] = {}
    for one in found.customers:
        scores[one.customer_id] = max(one.risk_score, scores.get(one.customer_id, one.risk_score))
    return scores


def _period(found: BehaviourReport) -> dict[str, Any]:
    return {
        "from": found.start.isoformat(),
        "as_of": found.as_of.isoformat(),
        "days": (found.as_of - found.start).days + 1,
    }


def _wire(one: Behaviour, limits: dict[str, tuple[str, Any]]) -> dict[str, Any]:
    wire = one.to_wire()
    currency, limit = limits.get(one.customer_id, (None, None))
    wire["credit_limit"]["set"] = limit if currency == one.currency else None
    return wire
