"""GET /customers?q=: by a part of the legal name or by a VAT id however it is spaced; partners
find only their own customers; a hostile q is a 400 that names it."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import pytest
from chalice.test import Client

from tests.functional.accounts import call, create_customer
from tests.functional.conftest import PARTNER_KEY, World
from tests.functional.helpers import assert_problem_answer

DE_ADDRESS = {"line1": "Hauptstr. 1", "city": "Berlin", "postal_code": "10115", "country": "DE"}


def search(client: Client, q: str, key: str | None = None, **params: Any) -> Any:
    query = "&".join([f"q={quote(q)}", *(f"{name}={value}" for name, value in params.items())])
    answer = call(client, "GET", f"/customers?{query}", **({"key": key} if key else {}))
    assert answer.status == 200, answer.body
    return answer.body


def names(page: dict[str, Any]) -> list[str]:
    return [customer["legal_name"] for customer in page["customers"]]


def test_customers_are_found_by_a_part_of_their_name_in_any_case(
    client: Client, world: World
) -> None:
    create_customer(client, legal_name="Initech SARL")
    create_customer(client, legal_name="Initrode GmbH", billing_address=DE_ADDRESS)

    assert names(search(client, "INIT")) == ["Initech SARL", "Initrode GmbH"]
    assert names(search(client, "tech")) == ["Initech SARL"]
    assert names(search(client, "retail")) == ["ACME Retail GmbH"]
    assert search(client, "nobody by that name") == {"customers": [], "next_cursor": None}


def test_a_vat_id_is_found_however_it_is_spaced(client: Client, world: World) -> None:
    # ACME Retail GmbH's VAT id is DE123456789, Globex's GB123456789
    for spelled in ("DE 123 456 789", "de123456789", "DE-123.456.789", " DE123456789 "):
        assert names(search(client, spelled)) == ["ACME Retail GmbH"], spelled
    assert names(search(client, "GB 123")) == ["Globex Ltd"]  # its beginning


def test_a_search_pages_like_the_listing(client: Client, world: World) -> None:
    for n in range(5):
        create_customer(client, legal_name=f"Paged Company {n}")
    first = search(client, "paged", limit=2)
    seen = names(first)
    cursor = first["next_cursor"]
    while cursor:
        page = search(client, "paged", limit=2, cursor=cursor)
        seen += names(page)
        cursor = page["next_cursor"]
    assert seen == [f"Paged Company {n}" for n in range(5)]


def test_a_partner_finds_only_its_own_customers(client: Client, world: World) -> None:
    # Given an account of another, with a name like the partner's customers'
    create_customer(client, legal_name="ACME Wholesale SA")
    # When the partner and the admin search
    assert names(search(client, "acme", key=PARTNER_KEY)) == ["ACME Retail GmbH"]
    assert names(search(client, "acme")) == ["ACME Retail GmbH", "ACME Wholesale SA"]
    assert names(search(client, "DE123456789", key=PARTNER_KEY)) == ["ACME Retail GmbH"]


@pytest.mark.parametrize(
    "q",
    ["x" * 101, "", "   ", "---", "acme\x00", "acme\nretail", "\ud800"],
)
def test_a_hostile_search_is_refused_at_its_parameter(client: Client, world: World, q: str) -> None:
    query = quote(q, errors="surrogatepass")
    answer = call(client, "GET", f"/customers?q={query}")
    problem = assert_problem_answer(answer, 400, "invalid-query")
    assert [error["pointer"] for error in problem["errors"]] == ["#/query/q"]


def test_a_search_reads_a_bounded_number_of_pages_and_goes_on_from_there(
    client: Client, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given reading two accounts per page and one page per request
    from functions.accounts import search_customers

    monkeypatch.setattr(search_customers, "PAGE", 2)
    monkeypatch.setattr(search_customers, "MAX_PAGES", 1)
    for name in ("Zeta Holdings", "Zulu Trading"):
        create_customer(client, legal_name=name)
    # When searching for the last accounts of the listing (ACME, Globex come first)
    first = search(client, "Z")
    # Then the first request reads ACME and Globex only: nothing found yet, and a cursor
    assert (names(first), first["next_cursor"] is not None) == ([], True)
    found, cursor = [], first["next_cursor"]
    while cursor:
        page = search(client, "Z", cursor=cursor)
        found += names(page)
        cursor = page["next_cursor"]
    assert found == ["Zeta Holdings", "Zulu Trading"]
