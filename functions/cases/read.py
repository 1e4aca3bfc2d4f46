"""Read cases: one with its thread (GET /cases/{case_id}), or a list (GET /cases)."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import ConfigDict, Field, StringConstraints

from functions.cases.common import readable
from shared.domain.access import Principal
from shared.domain.cases import CaseStatus
from shared.model import Model
from shared.store import cases as store

Id = Annotated[str, StringConstraints(min_length=1, max_length=64)]


class CaseQuery(Model):
    model_config = ConfigDict(extra="forbid")

    status: CaseStatus | None = None
    owner: Annotated[str, StringConstraints(max_length=32)] | None = None
    customer_id: Id | None = None
    limit: int = Field(default=100, ge=1, le=500)


def get_case(case_id: str, principal: Principal) -> dict[str, Any]:
    case = readable(case_id, principal)
    thread = [store.public(message) for message in store.thread(case_id)]
    return {**store.public(case), "thread": thread}


def list_cases(query: CaseQuery, principal: Principal) -> dict[str, Any]:
    """By customer (newest first), else by status (open by default); filtered by owner."""
    if query.customer_id:
        found = store.by_customer(query.customer_id, query.limit)
    else:
        found = store.by_status((query.status or CaseStatus.OPEN).value, limit=query.limit)
    cases = [
        store.public(case)
        for case in found
        if (query.status is None or case["status"] == query.status.value)
        and (query.owner is None or case["owner"] == query.owner)
        and principal.may_act_for(case["customer_id"])
    ]
    return {"cases": cases}
