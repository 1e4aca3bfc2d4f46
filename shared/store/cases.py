"""Cases in the single table: the case, its thread, the disputed amounts it holds, its survey.

| item | pk | sk |
| --- | --- | --- |
| case | ``CASE#<id>`` | ``CASE`` |
| message | ``CASE#<id>`` | ``MSG#<case version>#<message id>`` |
| dispute hold | ``CUSTOMER#<cid>`` | ``DISPUTE#<invoice id>#<case id>`` |
| survey answer | ``CASE#<id>`` | ``SURVEY`` |

A case is indexed by customer on gsi1 (``CUSTOMER#<cid>`` / ``CASE#<opened>#<id>``) and by
status on gsi2 (``CASES#<status>`` / ``<opened>#<id>``); survey answers on gsi2 as
``SURVEYS`` / ``<answered>#<case id>``.

A case changes only guarded by its ``version``; a dispute hold lives exactly while its case is
open (put with the case, deleted in the resolution's transaction), so what dunning leaves alone
is the sum of an invoice's holds. The holds live in the customer's partition, so the collection
worker reads them with the account (``shared.store.customers.get_account``). A survey answer
is put once (``attribute_not_exists``).
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from shared.store import table
from shared.store.table import Delete, Item, Put

CASE_SK = "CASE"
SURVEY_SK = "SURVEY"
MAX_ID_LENGTH = 64


def case_key(case_id: str) -> tuple[str, str]:
    return f"CASE#{case_id}", CASE_SK


HOLD_PREFIX = "DISPUTE#"


def hold_key(customer_id: str, invoice_id: str, case_id: str) -> tuple[str, str]:
    return f"CUSTOMER#{customer_id}", f"{HOLD_PREFIX}{invoice_id}#{case_id}"


def survey_key(case_id: str) -> tuple[str, str]:
    return f"CASE#{case_id}", SURVEY_SK


def _indexed(case: Item) -> Item:
    pk, sk = case_key(case["case_id"])
    order = f"{case['opened_at']}#{case['case_id']}"
    return {
        **case,
        "pk": pk,
        "sk": sk,
        "entity": "Case",
        "gsi1pk": f"CUSTOMER#{case['customer_id']}",
        "gsi1sk": f"CASE#{order}",
        "gsi2pk": f"CASES#{case['status']}",
        "gsi2sk": order,
    }


def new_case(case: Item) -> Put:
    return Put.new(_indexed(case))


def replacing(case: Item, version: int) -> Put:
    """The case's next state, written only over ``version`` (a concurrent writer fails it)."""
    return Put.replacing(_indexed(case), version)


def message_put(case_id: str, version: int, message: Item) -> Put:
    """A message of the thread, written with the case at ``version`` (the thread's order)."""
    pk, _ = case_key(case_id)
    sk = f"MSG#{version:06d}#{message['message_id']}"
    return Put.new({**message, "pk": pk, "sk": sk, "entity": "CaseMessage", "case_id": case_id})


def hold_put(invoice_id: str, case_id: str, customer_id: str, amount: Decimal) -> Put:
    pk, sk = hold_key(customer_id, invoice_id, case_id)
    item = {
        "pk": pk,
        "sk": sk,
        "entity": "DisputeHold",
        "invoice_id": invoice_id,
        "case_id": case_id,
        "customer_id": customer_id,
        "amount": str(amount),
    }
    return Put.new(item)


def hold_release(customer_id: str, invoice_id: str, case_id: str) -> Delete:
    return Delete(key=hold_key(customer_id, invoice_id, case_id))


def survey_put(case_id: str, answer: Item) -> Put:
    pk, sk = survey_key(case_id)
    order = f"{answer['answered_at']}#{case_id}"
    item = {**answer, "pk": pk, "sk": sk, "entity": "SurveyAnswer", "case_id": case_id}
    return Put.new({**item, "gsi2pk": "SURVEYS", "gsi2sk": order})


def _plain(value: Any) -> Any:
    """An item as written: DynamoDB's numbers back to ints (amounts are strings)."""
    if isinstance(value, Decimal):
        return int(value)
    if isinstance(value, dict):
        return {name: _plain(inner) for name, inner in value.items()}
    if isinstance(value, list):
        return [_plain(inner) for inner in value]
    return value


def get(case_id: str) -> Item | None:
    if not case_id or len(case_id) > MAX_ID_LENGTH:
        return None
    found = table.get(*case_key(case_id))
    return _plain(found) if found else None


def thread(case_id: str) -> list[Item]:
    """The case's messages, oldest first."""
    pk, _ = case_key(case_id)
    page = table.query_page(pk, sk_from="MSG#", sk_to="MSG#~", limit=500)
    return [_plain(item) for item in page.items]


def survey(case_id: str) -> Item | None:
    found = table.get(*survey_key(case_id))
    return _plain(found) if found else None


def disputed(customer_id: str, invoice_id: str) -> Decimal:
    """What the open disputes of one of the customer's invoices hold."""
    pk, prefix = hold_key(customer_id, invoice_id, "")
    page = table.query_page(pk, sk_from=prefix, sk_to=f"{prefix}~", limit=100, consistent=True)
    return held_among(page.items).get(invoice_id, Decimal(0))


def held_among(items: Iterable[Item]) -> dict[str, Decimal]:
    """Per invoice, what the dispute holds among ``items`` hold (only invoices with some)."""
    held: dict[str, Decimal] = {}
    for item in items:
        if item.get("entity") == "DisputeHold" and (amount := Decimal(str(item["amount"]))):
            held[item["invoice_id"]] = held.get(item["invoice_id"], Decimal(0)) + amount
    return held


def by_customer(customer_id: str, limit: int) -> list[Item]:
    return [_plain(item) for item in table.customer_page(customer_id, "CASE", limit=limit).items]


def by_status(status: str, *, since: str = "0", until: str = "~", limit: int = 100) -> list[Item]:
    page = table.query_page(
        f"CASES#{status}", index="gsi2", sk_from=since, sk_to=until, limit=limit, descending=True
    )
    return [_plain(item) for item in page.items]


def surveys(since: str, until: str) -> list[Item]:
    page = table.query_page("SURVEYS", index="gsi2", sk_from=since, sk_to=until, limit=1000)
    return [_plain(item) for item in page.items]


def public(case: Item) -> dict[str, Any]:
    """The case without its storage keys and bookkeeping."""
    hidden = {"pk", "sk", "entity", "gsi1pk", "gsi1sk", "gsi2pk", "gsi2sk", "resolving"}
    return {name: value for name, value in case.items() if name not in hidden}
