"""GET /invoices and GET /invoices/{id}: listings by customer and by status, filters, paging,
legacy invoices, and what partners may see."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import pytest

from shared import clock
from tests.functional.accounts import call
from tests.functional.conftest import PARTNER_KEY, World
from tests.functional.helpers import conforms_to_openapi
from tests.functional.invoicing import (
    credit_note,
    documents,
    legacy_invoice,
    placed,
    ship,
)


@dataclass(frozen=True)
class Books:
    """What the fixture issued: ids by role."""

    acme_first: str
    acme_second: str
    acme_note: str
    acme_legacy: str
    globex: str


@pytest.fixture
def books(world: World, client) -> Books:
    """Two open invoices and a credit note (for part of the first) for ACME, a legacy ACME
    invoice, one invoice for Globex."""
    order = placed(client, world)
    first = ship(client, world, order["id"], [(1, 2)])
    ship(client, world, order["id"], [(1, 1), (2, 1)])
    gbp = placed(
        client, world, customer_id="cus_globex", currency="GBP", lines=[
            {"sku": "WIDGET-1", "quantity": 1}
        ],
    )  # fmt: skip
    ship(client, world, gbp["id"], [(1, 1)])
    by_shipment = {doc["shipment_ids"][0]: doc for doc in documents(world)}
    acme_first = by_shipment.pop(first["shipment_id"])["id"]
    [acme_second] = [doc["id"] for doc in by_shipment.values() if doc["currency"] == "EUR"]
    [globex] = [doc["id"] for doc in by_shipment.values() if doc["currency"] == "GBP"]
    note = credit_note(
        client, acme_first, {"reason": "damaged", "lines": [{"line_no": 1, "quantity": "1"}]}
    )
    assert note.status == 201, note.body
    return Books(
        acme_first=acme_first,
        acme_second=acme_second,
        acme_note=note.body["id"],
        acme_legacy=legacy_invoice("cus_acme", "2025-0042"),
        globex=globex,
    )


def _ids(answer: Any) -> list[str]:
    assert answer.status == 200, answer.body
    return [invoice["id"] for invoice in answer.body["invoices"]]


def test_a_customers_documents_list_newest_first_with_its_legacy_invoices(
    world: World, client, books: Books
):
    # When the customer's documents are listed
    answer = call(client, "GET", "/invoices?customer_id=cus_acme")

    # Then its invoices, its credit note and its legacy invoice are there, latest issue first
    listed = answer.body["invoices"]
    assert set(_ids(answer)) == {
        books.acme_first,
        books.acme_second,
        books.acme_note,
        books.acme_legacy,
    }
    issued = [invoice["issued_on"] for invoice in listed]
    assert issued == sorted(issued, reverse=True)
    legacy = listed[-1]
    assert legacy == {
        "id": books.acme_legacy,
        "kind": "invoice",
        "legacy": True,
        "number": "2025-0042",
        "customer_id": "cus_acme",
        "currency": "EUR",
        "total": {"amount": "500.00", "currency": "EUR"},
        "amount_credited": {"amount": "0.00", "currency": "EUR"},
        "amount_paid": {"amount": "300.00", "currency": "EUR"},
        "amount_due": {"amount": "200.00", "currency": "EUR"},
        "status": "open",
        "issued_on": "2025-11-03",
        "due_on": "2025-12-03",
    }
    assert answer.body["next_cursor"] is None


def test_a_customer_listing_pages_through_every_document_once(world: World, client, books):
    # When the listing is read two documents at a time
    seen: list[str] = []
    path = "/invoices?customer_id=cus_acme&limit=2"
    answer = call(client, "GET", path)
    seen += _ids(answer)
    while answer.body["next_cursor"]:
        answer = call(client, "GET", f"{path}&cursor={answer.body['next_cursor']}")
        seen += _ids(answer)

    # Then every document comes exactly once
    assert sorted(seen) == sorted(
        [books.acme_first, books.acme_second, books.acme_note, books.acme_legacy]
    )


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("kind=credit_note", ["acme_note"]),
        ("kind=invoice&status=open", ["acme_first", "acme_second", "acme_legacy"]),
        ("status=issued", ["acme_note"]),
        ("issued_from={today}", ["acme_first", "acme_second", "acme_note"]),
        ("issued_to=2025-12-31", ["acme_legacy"]),
        ("due_to=2025-12-31", ["acme_legacy"]),
        ("due_from={today}&kind=invoice", ["acme_first", "acme_second"]),
    ],
)
def test_customer_listings_filter(world: World, client, books: Books, query, expected):
    # When the customer's documents are listed with filters
    today = clock.now().date().isoformat()
    answer = call(client, "GET", f"/invoices?customer_id=cus_acme&{query.format(today=today)}")

    # Then exactly the matching ones come back
    assert sorted(_ids(answer)) == sorted(getattr(books, name) for name in expected)


def test_staff_list_documents_by_status_across_customers_by_due_date(
    world: World, client, books: Books
):
    # When staff list the open invoices
    answer = call(client, "GET", "/invoices?status=open")

    # Then both customers' open invoices come, by due date (legacy ones are listed per customer)
    assert sorted(_ids(answer)) == sorted([books.acme_first, books.acme_second, books.globex])
    due = [invoice["due_on"] for invoice in answer.body["invoices"]]
    assert due == sorted(due)
    # and a due window narrows it
    next_year = f"{clock.now().year + 1}-06-30"
    assert _ids(call(client, "GET", f"/invoices?status=open&due_from={next_year}")) == []
    assert _ids(call(client, "GET", "/invoices?status=paid")) == []
    assert _ids(call(client, "GET", "/invoices?status=issued")) == [books.acme_note]


def test_a_status_listing_pages_with_its_own_cursor_only(world: World, client, books: Books):
    # Given the first page of open invoices
    first = call(client, "GET", "/invoices?status=open&limit=1")
    cursor = first.body["next_cursor"]
    assert cursor and len(first.body["invoices"]) == 1

    # When its cursor is used for the next page, and for a customer listing
    second = call(client, "GET", f"/invoices?status=open&limit=5&cursor={cursor}")
    elsewhere = call(client, "GET", f"/invoices?customer_id=cus_acme&cursor={cursor}")

    # Then it continues its own listing and is refused by another
    assert len(_ids(first) + _ids(second)) == 3
    assert elsewhere.status == 400 and elsewhere.body["type"].endswith("/invalid-query")


def test_a_partner_sees_only_the_invoices_of_its_customers(world: World, client, books: Books):
    # Given a partner bound to Globex only
    partner = call(
        client, "POST", "/partners", body={"name": "Globex EDI", "customer_ids": ["cus_globex"]}
    )
    assert partner.status == 201, partner.body
    key = partner.body["api_key"]["secret"]

    # When it lists and reads invoices
    listed = call(client, "GET", "/invoices", key=key)
    own = call(client, "GET", f"/invoices/{books.globex}", key=key)
    other = call(client, "GET", f"/invoices/{books.acme_first}", key=key)
    others_list = call(client, "GET", "/invoices?customer_id=cus_acme", key=key)

    # Then it sees Globex's invoice and nothing of ACME's (indistinguishable from missing)
    assert _ids(listed) == [books.globex]
    assert own.status == 200 and own.body["customer_id"] == "cus_globex"
    assert other.status == 404 and other.body["type"].endswith("/not-found")
    assert _ids(others_list) == []


def test_a_partner_of_several_customers_names_the_customer(world: World, client, books: Books):
    # The demo partner acts for ACME and Globex
    unnamed = call(client, "GET", "/invoices", key=PARTNER_KEY)
    named = call(client, "GET", "/invoices?customer_id=cus_globex", key=PARTNER_KEY)
    foreign = call(client, "GET", "/invoices?customer_id=cus_other", key=PARTNER_KEY)

    assert unnamed.status == 400 and unnamed.body["errors"][0]["pointer"] == "#/query/customer_id"
    assert _ids(named) == [books.globex]
    assert _ids(foreign) == []


def test_an_invoice_reads_back_in_full_and_a_legacy_one_in_summary(
    world: World, client, books: Books
):
    invoice = call(client, "GET", f"/invoices/{books.acme_second}", key=PARTNER_KEY)
    legacy = call(client, "GET", f"/invoices/{books.acme_legacy}", key=PARTNER_KEY)
    missing = call(client, "GET", "/invoices/inv_missing")

    assert invoice.status == 200 and invoice.body["lines"] and invoice.body["taxes"]
    assert invoice.body == next(doc for doc in documents(world) if doc["id"] == books.acme_second)
    assert legacy.status == 200 and legacy.body["legacy"] is True
    assert missing.status == 404 and missing.body["type"].endswith("/not-found")
    assert call(client, "GET", f"/invoices/{books.globex}", key=None).status == 401


@pytest.mark.parametrize(
    "query",
    [
        "",
        "?limit=0&customer_id=cus_acme",
        "?limit=101&customer_id=cus_acme",
        "?status=lost",
        "?kind=receipt&customer_id=cus_acme",
        "?customer_id=cus_acme&due_from=2026-02-01&due_to=2026-01-01",
        "?customer_id=cus_acme&issued_from=tomorrow",
        "?customer_id=cus_acme&sort=number",
        "?customer_id=cus_acme&cursor=%%%",
    ],
)
def test_bad_listing_queries_answer_400(world: World, client, query):
    answer = call(client, "GET", f"/invoices{query}")
    assert answer.status == 400 and answer.body["type"].endswith("/invalid-query"), answer.body


def test_a_partner_asking_for_another_customers_invoices_gets_an_empty_documented_page(client):
    # When a partner names a customer it does not act for
    answer = client.http.get(
        "/invoices?customer_id=cus_not_ours&issued_to=2026-12-01",
        headers={"X-Api-Key": PARTNER_KEY},
    )

    # Then the page is empty, in the shape openapi.yaml gives every invoice page
    assert answer.status_code == 200
    page = json.loads(answer.body)
    assert page["invoices"] == []
    conforms_to_openapi(
        page, "#/paths/~1invoices/get/responses/200/content/application~1json/schema"
    )
