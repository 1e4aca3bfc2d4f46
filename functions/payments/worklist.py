"""The cash-application worklist: payments by status, each with the matcher's latest decision.

``GET /payments?status=unapplied|partially_applied|applied|refunded&limit&cursor`` lists
payments oldest received first (gsi2); each carries ``matching``: the decision the matcher
recorded (basis, confidence, evidence, explanation, proposed allocations and candidates), so a
clerk sees why a payment waits and what it probably pays. Staff only: payments of every
customer share one listing.

``status=held`` lists the bank entries held for a clerk instead (``held_entries``): reversals and
returns whose original payment was not found or not undone exactly, and credits undoing a debit
(see functions/payments/bank_reversals.py), each with the reason it waits.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import ConfigDict, Field, StringConstraints

from functions.accounts.paging import invalid_cursor
from shared.domain.access import Principal
from shared.domain.payment import Payment, PaymentStatus
from shared.domain.principal import Role
from shared.model import Model
from shared.store import bank_reversals, decisions, payments, readable, table
from shared.store.bank_reversals import HELD
from shared.store.table import InvalidCursorError


class WorklistQuery(Model):
    """The query string of GET /payments."""

    model_config = ConfigDict(extra="forbid")

    status: PaymentStatus | Literal["held"] = PaymentStatus.UNAPPLIED
    limit: int = Field(default=25, ge=1, le=100)
    cursor: Annotated[str, StringConstraints(min_length=1, max_length=2048)] | None = None


def list_payments(query: WorklistQuery) -> dict[str, Any]:
    """``{"payments": [...], "next_cursor": ...}``: each payment with its latest decision."""
    if query.status == HELD:
        return _held(query)
    try:
        _require_cursor_of(query.cursor, f"PAYMENTSTATUS#{query.status}")
        page = payments.list_by_status(
            PaymentStatus(query.status), limit=query.limit, cursor=query.cursor
        )
    except InvalidCursorError:
        raise invalid_cursor() from None
    listed = [item for item in page.items if item.get("entity") == "Payment"]
    with readable.skipping() as skipped:  # a payment that does not read is named, not fatal
        found = readable.each(listed, payments.from_item)
    matched = decisions.get_many(payment.payment_id for payment in found) if found else {}
    return {
        "payments": [view(payment, matched.get(payment.payment_id)) for payment in found],
        "next_cursor": page.cursor,
        "skipped": readable.wire(skipped),
    }


def _held(query: WorklistQuery) -> dict[str, Any]:
    """``{"held_entries": [...], "next_cursor": ...}``: bank entries waiting for a clerk."""
    try:
        _require_cursor_of(query.cursor, bank_reversals.HELD_PARTITION)
        page = bank_reversals.list_held(limit=query.limit, cursor=query.cursor)
    except InvalidCursorError:
        raise invalid_cursor() from None
    with readable.skipping() as skipped:
        found = readable.each(bank_reversals.from_items(page.items), bank_reversals.held_view)
    return {"held_entries": found, "next_cursor": page.cursor, "skipped": readable.wire(skipped)}


def view(payment: Payment, decision: dict[str, Any] | None) -> dict[str, Any]:
    """A payment as the worklist and GET /payments/{id} show it: with the matcher's decision."""
    return {**payment.to_wire(), "matching": decision}


def with_decision(payment: Payment) -> dict[str, Any]:
    """``view`` with the payment's stored decision (None while it was not decided)."""
    return view(payment, decisions.get(payment.payment_id))


def _require_cursor_of(cursor: str | None, partition: str) -> None:
    """Refuse a cursor of another listing (another status) before DynamoDB does (with a 500)."""
    if not cursor:
        return
    key = table.from_dynamo(table._decode_cursor(cursor))
    if set(key) != {"pk", "sk", "gsi2pk", "gsi2sk"} or key["gsi2pk"] != partition:
        raise InvalidCursorError(cursor)


def as_seen_by(payment: Payment, principal: Principal) -> dict[str, Any]:
    """GET /payments/{id}: staff see the matcher's decision; partners do not (its candidates
    may name other customers' invoices)."""
    if principal.role is Role.PARTNER:
        return view(payment, None)
    return with_decision(payment)
