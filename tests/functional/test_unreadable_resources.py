"""A single resource whose stored record does not read answers a problem naming the record, never
a 500: reads and writes alike answer 409 ``unreadable-record``, and a write changes nothing."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from typing import Any

import pytest

from shared.store import catalog, customers, invoices, orders, payments, readable, stock
from shared.store.table import to_dynamo
from tests.functional.accounts import call
from tests.functional.conftest import World
from tests.functional.helpers import assert_problem_answer, conforms_to_openapi, snapshot
from tests.functional.invoicing import documents, placed, ship
from tests.functional.test_manual_payments import cheque

Item = dict[str, Any]
Damage = Callable[[Item], Item]
BEFORE_YEAR_1000 = "1-01-01T00:00:00.000Z"  # what the unpadded year of old releases wrote


def _in_document(change: Callable[[dict[str, Any]], None]) -> Damage:
    """Damage inside an item's JSON document."""

    def damaging(item: Item) -> Item:
        document = json.loads(item["document"])
        change(document)
        return {**item, "document": json.dumps(document)}

    return damaging


def _without(name: str) -> Damage:
    return lambda item: {key: value for key, value in item.items() if key != name}


def _with(**attributes: Any) -> Damage:
    return lambda item: {**item, **attributes}


DAMAGE: dict[str, dict[str, Damage]] = {
    "invoice": {
        "bad JSON": _with(document='{"invoice_id": "inv_'),
        "a bad date": _in_document(lambda document: document.update(issued_on="1-01-01")),
        "a non-numeric amount": _in_document(lambda document: document.update(total="lots")),
    },
    "order": {
        "a bad date": _with(created_at=BEFORE_YEAR_1000),
        "a non-numeric amount": _with(total="lots"),
        "a missing attribute": _without("lines"),
    },
    "payment": {
        "a bad date": _in_document(lambda document: document.update(received_at=BEFORE_YEAR_1000)),
        "a non-numeric amount": _in_document(lambda document: document.update(amount="lots")),
        "bad JSON": _with(document="{"),
    },
    "customer": {
        "a non-numeric amount": _with(credit_limit="lots"),
        "a missing attribute": _without("legal_name"),
        "a bad date": _with(created_at=BEFORE_YEAR_1000),
    },
    "catalog item": {"a bad date": _with(updated_at=BEFORE_YEAR_1000)},
    "stock": {"a non-numeric amount": _with(available="lots")},
}


@pytest.fixture
def books(client, world: World) -> dict[str, tuple[str, str]]:
    """ACME's invoice (its demo order shipped whole), another confirmed order, and an unapplied
    cheque: the record key of each, and of the customer."""
    shipped = placed(client, world)
    ship(client, world, shipped["id"], [(1, 3), (2, 1)])
    [invoice] = documents(world)
    order = placed(client, world)
    paid = call(client, "POST", "/payments", body=cheque(amount="10.00", remittance="none"))
    assert paid.status == 201, paid.body
    world.pump.drain()
    return {
        "invoice": invoices.invoice_key(invoice["id"]),
        "order": orders.order_key(order["id"]),
        "payment": payments.payment_key(paid.body["id"]),
        "customer": customers.customer_key("cus_acme"),
        "catalog item": catalog.item_key("WIDGET-1"),
        "stock": stock.stock_key("WIDGET-1"),
    }


def _damage(world: World, key: tuple[str, str], damage: Damage) -> None:
    """Put the record straight into the table, damaged."""
    [stored] = [item for item in world.table_items() if (item["pk"], item["sk"]) == key]
    world.session.client("dynamodb").put_item(
        TableName=world.outputs["TableName"], Item=to_dynamo(damage(stored))
    )


def _id(key: tuple[str, str]) -> str:
    return key[0].split("#", 1)[1]


def _assert_unreadable(answer: Any, key: tuple[str, str]) -> None:
    problem = assert_problem_answer(answer, 409, "unreadable-record")
    conforms_to_openapi(problem, "Problem")
    assert problem["record"] == {"pk": key[0], "sk": key[1]}
    assert key[0] in problem["detail"]
    assert "lots" not in json.dumps(problem) and "1-01-01" not in json.dumps(problem)


READS = {
    "invoice": ["/invoices/{id}"],
    "order": ["/orders/{id}", "/orders/{id}/history"],
    "payment": ["/payments/{id}"],
    "customer": ["/customers/{id}", "/customers/{id}/statement"],
    "catalog item": ["/catalog/items/{id}"],
    "stock": ["/stock/{id}"],
}


@pytest.mark.parametrize(
    ("kind", "path", "how"),
    [(kind, path, how) for kind, paths in READS.items() for path in paths for how in DAMAGE[kind]],
)
def test_reading_a_resource_whose_record_does_not_read_answers_409_naming_it(
    client, world: World, books: dict[str, tuple[str, str]], kind: str, path: str, how: str
):
    # Given
    key = books[kind]
    _damage(world, key, DAMAGE[kind][how])
    before = snapshot(world)

    # When
    answer = call(client, "GET", path.format(id=_id(key)))

    # Then
    _assert_unreadable(answer, key)
    assert snapshot(world) == before


def _credit_note(client: Any, books: dict[str, tuple[str, str]], key: str) -> Any:
    body = {"reason": "damaged goods", "lines": [{"line_no": 1, "quantity": "1"}]}
    path = f"/invoices/{_id(books['invoice'])}/credit-notes"
    return call(client, "POST", path, body=body, idempotency_key=key)


def _cancel(client: Any, books: dict[str, tuple[str, str]], key: str) -> Any:
    path = f"/orders/{_id(books['order'])}/cancel"
    return call(client, "POST", path, body={"reason": "duplicate"}, idempotency_key=key)


def _allocation(client: Any, books: dict[str, tuple[str, str]], key: str) -> Any:
    line = {"invoice_id": _id(books["invoice"]), "amount": "10.00"}
    path = f"/payments/{_id(books['payment'])}/allocations"
    return call(client, "POST", path, body={"allocations": [line]}, idempotency_key=key)


def _amendment(client: Any, books: dict[str, tuple[str, str]], key: str) -> Any:
    path = f"/customers/{_id(books['customer'])}"
    return call(client, "PATCH", path, body={"contact_email": "ap@acme.example", "version": 1})


WRITES = {
    "a credit note on the invoice": ("invoice", _credit_note),
    "a cancel of the order": ("order", _cancel),
    "an allocation to the invoice": ("invoice", _allocation),
    "an allocation of the payment": ("payment", _allocation),
    "an amendment of the customer": ("customer", _amendment),
}


@pytest.mark.parametrize("write", list(WRITES))
def test_a_write_on_a_resource_whose_record_does_not_read_answers_409_and_writes_nothing(
    client, world: World, books: dict[str, tuple[str, str]], write: str
):
    # Given
    kind, request = WRITES[write]
    key = books[kind]
    [(how, damage)] = list(DAMAGE[kind].items())[:1]
    _damage(world, key, damage)
    before = snapshot(world)

    # When
    answer = request(client, books, str(uuid.uuid4()))
    world.pump.drain()

    # Then
    _assert_unreadable(answer, key)
    assert snapshot(world) == before, how


def test_once_the_record_is_repaired_the_same_request_goes_through(
    client, world: World, books: dict[str, tuple[str, str]]
):
    # Given a credit note refused on an invoice that did not read
    key = books["invoice"]
    [stored] = [item for item in world.table_items() if (item["pk"], item["sk"]) == key]
    _damage(world, key, DAMAGE["invoice"]["bad JSON"])
    idempotency_key = str(uuid.uuid4())
    _assert_unreadable(_credit_note(client, books, idempotency_key), key)

    # When an operator puts the record back and the client retries
    _damage(world, key, lambda _: stored)
    answer = _credit_note(client, books, idempotency_key)

    # Then
    assert answer.status == 201, answer.body


def test_an_unreadable_record_answered_is_counted_and_logged_by_its_key(
    client,
    world: World,
    books: dict[str, tuple[str, str]],
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
):
    # Given
    key = books["payment"]
    _damage(world, key, DAMAGE["payment"]["a non-numeric amount"])
    counted: list[dict[str, Any]] = []
    monkeypatch.setattr(readable.metrics, "add_metric", lambda **metric: counted.append(metric))

    # When
    with caplog.at_level("WARNING"):
        answer = call(client, "GET", f"/payments/{_id(key)}")

    # Then
    _assert_unreadable(answer, key)
    assert [metric["name"] for metric in counted] == ["UnreadableRecords"]
    [logged] = [r for r in caplog.records if r.getMessage() == "stored record does not read"]
    assert (vars(logged)["pk"], vars(logged)["sk"]) == key
    assert "lots" not in repr(vars(logged))


def test_a_key_whose_record_does_not_read_answers_401_like_an_unknown_key(client, world: World):
    # Given the partner's key record with a role no release wrote
    from infra.local.offline import PARTNER_KEY
    from shared.http import auth

    key = (auth.key_pk(auth.hash_key(PARTNER_KEY)), "APIKEY")
    _damage(world, key, _with(role="emperor"))

    # When the partner calls
    answer = call(client, "GET", "/customers/cus_acme", key=PARTNER_KEY)

    # Then it is refused as an unknown key is, without naming the record
    assert_problem_answer(answer, 401, "unauthorized")
    assert "APIKEY" not in json.dumps(answer.body)
