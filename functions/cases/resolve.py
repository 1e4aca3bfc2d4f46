"""Resolve a case (POST /cases/{case_id}/resolution): a credit note, a rejection, a correction
note, or (a question or request) an answer.

Every write is guarded by the case's version: of two resolutions racing, one wins and the other
answers 409 with the version now. A credit note is issued through the credit-note use case
between two such writes: the case first moves to ``resolving``, marked with the resolution (so a
second resolution is refused before any note is issued), then the note, then the case closes. A
refused note puts the case back as it was. A retry of the resolution (AWS answered slowly, or
the Lambda died after the note) finds the mark, gets the same note (``request_scope``) and
closes the case. Closing releases the dispute's hold: dunning chases the whole amount due again.
The resolution is named by the request (``request_scope``): a retry whose first attempt closed
the case answers the closed case and sends the survey that attempt did not (once per case).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Any

from pydantic import ConfigDict, Field

from functions.cases.common import readable, write_case
from shared import clock, errors, ids, request_scope
from shared.domain import cases as domain
from shared.domain.access import Action, Principal
from shared.domain.cases import CaseKind, CaseStatus, DisputedLine, Outcome
from shared.domain.text import MultiLine
from shared.model import Model
from shared.store import cases as store
from shared.store.table import Item, Write


class ResolutionRequest(Model):
    model_config = ConfigDict(extra="forbid", strict=True)

    outcome: Outcome = Field(strict=False)
    note: Annotated[str, MultiLine(max_length=2000)]
    version: int = Field(ge=1)  # the version of the case the resolution was decided on


def resolve(case_id: str, request: ResolutionRequest, principal: Principal) -> dict[str, Any]:
    from functions.cases.survey import invite

    case = readable(case_id, principal)
    resolution_id = request_scope.request_scoped_id("resolution") or ids.new_id("resolution")
    if (case.get("resolution") or {}).get("resolution_id") == resolution_id:
        invite(case)  # a retry whose first attempt closed the case: what it did not send
        return store.public(case)
    resuming = (case.get("resolving") or {}).get("resolution_id") == resolution_id
    if not resuming:
        _require_resolvable(case, request, principal)
    resolution: dict[str, Any] = {
        "resolution_id": resolution_id,
        "outcome": request.outcome.value,
        "note": request.note,
        "by": principal.principal_id,
    }
    if request.outcome is Outcome.CREDIT_NOTE:
        principal.require(Action.ISSUE_CREDIT_NOTES)
        case = case if resuming else _claimed(case, resolution_id)
        try:
            resolution["credit_note"] = _credit_note(case, request.note, principal)
        except errors.DomainError:  # the note refused: the case as it was
            write_case(_settled(case), {"status": case["resolving"]["from"]}, [])
            raise  # anything else (AWS slow, a crash) leaves the mark for the retry
        case = _settled(case)
    holds: list[Write] = []
    if case.get("disputed_amount"):
        holds.append(store.hold_release(case["customer_id"], case["invoice_id"], case_id))
    now = clock.iso(clock.now())
    closed = write_case(
        case,
        {
            "status": CaseStatus.CLOSED.value,
            "resolution": resolution,
            "resolved_at": now,
            "first_response_at": case.get("first_response_at") or now,
        },
        holds,
        "CaseResolved",
    )
    invite(closed)
    return store.public(closed)


def _require_resolvable(case: Item, request: ResolutionRequest, principal: Principal) -> None:
    if int(case["version"]) != request.version or case["status"] not in {
        status.value for status in domain.OPEN_STATUSES
    }:
        raise errors.Conflict(
            "version-mismatch" if int(case["version"]) != request.version else "case-closed",
            f"case {case['number']} is {case['status']} at version {case['version']}",
            current_version=int(case["version"]),
        )
    disputing = case["kind"] == CaseKind.DISPUTE.value
    if disputing == (request.outcome is Outcome.ANSWERED):
        raise errors.Unprocessable(
            "invalid-resolution",
            "a dispute is resolved by a credit note, a rejection or a correction; "
            "a question or request is answered",
            errors=[{"pointer": "#/outcome", "detail": "does not fit the case"}],
        )


def _claimed(case: Item, resolution_id: str) -> Item:
    """The case ``resolving`` under this resolution: a second resolution is refused, and a
    retry of this one (the Lambda died after the note) finds it and carries it on."""
    resolving = {"resolution_id": resolution_id, "from": case["status"]}
    return write_case(case, {"status": CaseStatus.RESOLVING.value, "resolving": resolving}, [])


def _settled(case: Item) -> Item:
    """The case without its ``resolving`` mark (the next write drops it)."""
    return {name: value for name, value in case.items() if name != "resolving"}


def _credit_note(case: Item, reason: str, principal: Principal) -> dict[str, Any]:
    from functions.invoicing.credit_notes import (
        CreditLineRequest,
        CreditNoteRequest,
        issue_credit_note,
    )
    from shared.store import invoices

    invoice = invoices.receivable(case["invoice_id"])
    lines = [DisputedLine(line["line_no"], Decimal(line["amount"])) for line in case["lines"]]
    if invoice is None or not lines:
        raise errors.Unprocessable(
            "invalid-resolution",
            "only a dispute of invoice lines is credited here; issue the note on the invoice",
            errors=[{"pointer": "#/outcome", "detail": "the dispute names no lines"}],
        )
    try:
        quantities = domain.credit_quantities(invoice, lines)
    except domain.DisputeError as error:
        raise errors.Unprocessable(
            "invalid-resolution",
            error.detail,
            errors=[{"pointer": "#/outcome", "detail": error.detail}],
        ) from None
    note = issue_credit_note(
        invoice.invoice_id,
        CreditNoteRequest(
            reason=f"{case['number']}: {reason}"[:500],
            lines=[CreditLineRequest(line_no=no, quantity=str(q)) for no, q in quantities.items()],
        ),
        principal,
    )
    return {"invoice_id": note.invoice_id, "number": note.number, "total": str(note.total)}
