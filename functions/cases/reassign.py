"""Change a case's owner (PATCH /cases/{case_id}): staff override the owner the rule chose.

The owner is a role that works on cases (``shared.domain.cases.CASE_ROLES``). ONE transaction
writes the case, guarded by the version the caller read (409 with the version now otherwise, or
when the case is closed), and ``CaseReassigned`` naming the owner before.
"""

from __future__ import annotations

from typing import Any

from pydantic import ConfigDict, Field

from functions.cases.common import readable, write_case
from shared import errors
from shared.domain.access import CaseOwner, Principal
from shared.domain.cases import OPEN_STATUSES
from shared.model import Model
from shared.store import cases as store


class CasePatch(Model):
    """The body of PATCH /cases/{case_id}."""

    model_config = ConfigDict(extra="forbid", strict=True)

    owner: CaseOwner = Field(strict=False)
    version: int = Field(ge=1)  # the version of the case the change was decided on


def reassign(case_id: str, request: CasePatch, principal: Principal) -> dict[str, Any]:
    case = readable(case_id, principal)
    version = int(case["version"])
    if version != request.version or case["status"] not in {s.value for s in OPEN_STATUSES}:
        raise errors.Conflict(
            "version-mismatch" if version != request.version else "case-closed",
            f"case {case['number']} is {case['status']} at version {version}",
            current_version=version,
        )
    if case["owner"] == request.owner.value:
        return store.public(case)
    changed = write_case(
        case,
        {"owner": request.owner.value, "owner_set_by": principal.principal_id},
        [],
        "CaseReassigned",
        previous_owner=case["owner"],
    )
    return store.public(changed)
