"""Cash-application decisions kept next to their payment, so a clerk can read why.

Key ``PAYMENT#<payment id>`` / ``DECISION``: the latest decision of the matcher on the payment
(basis, confidence, whether it was applied, the evidence sentence by sentence, the explanation,
the proposed allocations and the candidates for a clerk). It is written in the transaction that
acts on the decision (the allocations, or the worklist entry), and the event of that transaction
(``PaymentApplied`` or ``PaymentUnmatched``) carries the same record, so every earlier decision
stays in the payment's audit trail.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from shared import clock
from shared.domain.matching import Decision
from shared.store import table
from shared.store.table import Item, Put

SORT_KEY = "DECISION"


def decision_key(payment_id: str) -> tuple[str, str]:
    return f"PAYMENT#{payment_id}", SORT_KEY


def wire(decision: Decision, decided_at: datetime) -> dict[str, Any]:
    """The decision as the API and the events show it (amounts as decimal strings)."""
    return {"decided_at": clock.iso(decided_at), **decision.model_dump(mode="json")}


def record(payment_id: str, decision: Decision, decided_at: datetime) -> Put:
    """The payment's latest decision (replacing any earlier one)."""
    pk, sk = decision_key(payment_id)
    return Put(
        item={
            "pk": pk,
            "sk": sk,
            "entity": "PaymentDecision",
            "payment_id": payment_id,
            "decision": wire(decision, decided_at),
        }
    )


def get(payment_id: str) -> dict[str, Any] | None:
    item = table.get(*decision_key(payment_id))
    return _decision(item) if item else None


def get_many(payment_ids: Iterable[str]) -> dict[str, dict[str, Any]]:
    """Payment id -> its latest decision, for the payments that have one."""
    items = table.get_many(decision_key(payment_id) for payment_id in payment_ids)
    return {item["payment_id"]: _decision(item) for item in items}


def _decision(item: Item) -> dict[str, Any]:
    decision: dict[str, Any] = item["decision"]
    return decision
