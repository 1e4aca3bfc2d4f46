"""Bank reversals and returns in the single table, and the references that find their originals.

- reversal: ``BANKREVERSAL#<entry key>`` / ``BANKREVERSAL``: what became of one reversal entry
  (``reversed``: the payment it took back; ``held``: on the worklist, with the reason). It is
  put (``Put.new``) in the transaction that acts on it, so the same entry in another file (an
  overlapping statement) acts once. A held one is listed by the worklist (gsi2
  ``PAYMENTSTATUS#held`` / ``<booked>#<entry key>``, oldest first).
- reference: ``BANKREF#<account>#<kind>#<value>`` / ``PAYMENT#<payment id>``: a bank payment
  under the references a reversal may name it by (``end_to_end_id``, ``instruction_id``); put
  with the payment. These need not be unique (payers reuse them), so each payment is a row.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from shared import clock
from shared.domain.camt053 import StatementReversal
from shared.domain.money import Money
from shared.domain.payment import Payment
from shared.store import readable, table
from shared.store.table import Item, Page, Put

SORT_KEY = "BANKREVERSAL"
HELD = "held"
REVERSED = "reversed"
HELD_PARTITION = f"PAYMENTSTATUS#{HELD}"
REFERENCE_KINDS = ("end_to_end_id", "instruction_id")  # metadata of a bank payment
MAX_REFERENCE_LENGTH = 400


def reversal_key(entry_key: str) -> tuple[str, str]:
    return f"BANKREVERSAL#{entry_key}", SORT_KEY


def reference_partition(account: str, kind: str, value: str) -> str:
    return f"BANKREF#{account}#{kind}#{value}"


def record(
    reversal: StatementReversal,
    *,
    outcome: str,
    reason: str | None,
    payment_id: str | None,
    statement_sha256: str,
) -> Put:
    """The reversal's record, refused if the entry was acted on before."""
    pk, sk = reversal_key(reversal.entry_key)
    item: Item = {
        "pk": pk,
        "sk": sk,
        "entity": "BankReversal",
        "entry_key": reversal.entry_key,
        "outcome": outcome,
        "reason": reason,
        "payment_id": payment_id,
        "statement_sha256": statement_sha256,
        "recorded_at": clock.iso(clock.now()),
        "document": json.dumps(reversal.model_dump(mode="json"), sort_keys=True),
    }
    if outcome == HELD:
        booked = reversal.booking_date or reversal.value_date
        item["gsi2pk"] = HELD_PARTITION
        item["gsi2sk"] = f"{booked.isoformat() if booked else ''}#{reversal.entry_key}"
    return Put.new(item)


def get(entry_key: str) -> Item | None:
    return table.get(*reversal_key(entry_key))


def references(payment: Payment) -> list[Put]:
    """The rows finding a bank payment by the references a reversal may name it by."""
    account = payment.metadata.get("account")
    if not account:
        return []
    rows = []
    for kind in REFERENCE_KINDS:
        value = payment.metadata.get(kind)
        if value and len(value) <= MAX_REFERENCE_LENGTH:
            rows.append(
                Put(
                    item={
                        "pk": reference_partition(account, kind, value),
                        "sk": f"PAYMENT#{payment.payment_id}",
                        "entity": "BankReference",
                        "payment_id": payment.payment_id,
                    }
                )
            )
    return rows


def payments_named(account: str, kind: str, value: str) -> list[str]:
    """Ids of the bank payments into ``account`` that carry the reference (a few at most)."""
    if len(value) > MAX_REFERENCE_LENGTH:
        return []
    rows = table.query(reference_partition(account, kind, value), limit=10)
    return [row["payment_id"] for row in rows]


def list_held(*, limit: int, cursor: str | None) -> Page:
    """Reversals waiting for a clerk, oldest booked first."""
    return table.query_page(HELD_PARTITION, index="gsi2", limit=limit, cursor=cursor)


@readable.reader
def held_view(item: Item) -> dict[str, Any]:
    """A held reversal as the worklist shows it."""
    reversal = StatementReversal.model_validate_json(item["document"])
    amount = Money(amount=reversal.amount, currency=reversal.currency).to_wire()
    return {
        "entry_key": reversal.entry_key,
        "kind": "reversal" if reversal.reversal_indicator else "return",
        "credit_debit": reversal.indicator,
        "amount": amount,
        "account": reversal.account,
        "statement_id": reversal.statement_id,
        "booking_date": _day(reversal.booking_date),
        "value_date": _day(reversal.value_date),
        "reference": reversal.account_servicer_reference,
        "original_references": dict(reversal.original_references),
        "return_reason": reversal.return_reason,
        "return_information": reversal.return_information,
        "counterparty_name": reversal.counterparty_name,
        "remittance": reversal.remittance,
        "reason": item.get("reason"),
        "held_at": item.get("recorded_at"),
    }


def from_items(items: Iterable[Item]) -> list[Item]:
    return [item for item in items if item.get("entity") == "BankReversal"]


def _day(day: Any) -> str | None:
    return day.isoformat() if day else None
