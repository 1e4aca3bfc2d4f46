"""The catalog over HTTP (items, prices) and the pricing the order service calls, against moto."""

from __future__ import annotations

import json
from collections import Counter
from decimal import Decimal
from typing import Any

import pytest

from tests.functional.conftest import ADMIN_KEY, PARTNER_KEY, World
from tests.functional.helpers import assert_problem, events, snapshot

AUDITOR_KEY = "otc_test_auditor_key_0123456789abcdef"
WIDGET = {"name": "Widget", "unit": "EA", "tax_category": "standard"}


@pytest.fixture
def catalog(world: World) -> World:
    """The demo catalog (the world's seed loads it: infra/local/demo_catalog.py), and an
    auditor's key."""
    from shared.http.auth import Principal, Role, key_item
    from shared.store import table
    from shared.store.table import Put

    auditor = Principal(principal_id="stf_auditor", role=Role.AUDITOR)
    table.transact([Put.new(key_item(AUDITOR_KEY, auditor))])
    return world


def put(client: Any, path: str, body: Any, key: str = ADMIN_KEY) -> Any:
    raw = body if isinstance(body, (bytes, str)) else json.dumps(body)
    return client.http.put(
        path, headers={"Content-Type": "application/json", "X-Api-Key": key}, body=raw
    )


def get(client: Any, path: str, key: str = PARTNER_KEY) -> Any:
    return client.http.get(path, headers={"X-Api-Key": key})


# --- items -----------------------------------------------------------------------------------


def test_a_partner_lists_the_catalog_in_sku_order_a_page_at_a_time(catalog, client):
    # Given the demo catalog
    # When a partner reads it two items at a time
    first = json.loads(get(client, "/catalog/items?limit=2").body)
    second = json.loads(get(client, f"/catalog/items?limit=2&cursor={first['next_cursor']}").body)
    # Then every item comes once, in SKU order, and the last page has no cursor
    skus = [item["sku"] for item in first["items"] + second["items"]]
    assert skus == ["GADGET-2", "SERVICE-HOUR", "WIDGET-1"]
    assert second["next_cursor"] is None
    assert [item["supply"] for item in first["items"]] == ["goods", "services"]
    assert first["items"][0] == {
        "sku": "GADGET-2",
        "name": "Gadget",
        "unit": "EA",
        "tax_category": "reduced",
        "supply": "goods",
        "active": True,
        "version": 1,
        "created_at": first["items"][0]["created_at"],
        "updated_at": first["items"][0]["updated_at"],
    }


@pytest.mark.parametrize(
    ("query", "parameter"),
    [
        ("limit=0", "limit"),
        ("limit=101", "limit"),
        ("limit=ten", "limit"),
        ("cursor=not-a-cursor", "cursor"),
        ("colour=red", "colour"),
    ],
)
def test_bad_query_parameters_answer_400(catalog, client, query, parameter):
    problem = assert_problem(get(client, f"/catalog/items?{query}"), 400, "invalid-query")
    assert f"#/query/{parameter}" in {error["pointer"] for error in problem["errors"]}


def test_an_item_is_read_with_its_list_prices_but_not_customer_prices(catalog, client):
    # Given a customer's own price besides the list prices
    put(
        client,
        "/catalog/items/WIDGET-1/prices/EUR",
        {"unit_price": "15", "customer_id": "cus_acme"},
    )
    # When a partner reads the item
    response = get(client, "/catalog/items/WIDGET-1")
    # Then it shows the list prices per currency only
    assert response.status_code == 200
    item = json.loads(response.body)
    assert item["prices"] == {"EUR": "19.99", "GBP": "17.50"}
    assert (item["sku"], item["unit"], item["active"]) == ("WIDGET-1", "EA", True)
    assert json.loads(get(client, "/catalog/items/GADGET-2").body)["prices"]["EUR"] == "0.125"


@pytest.mark.parametrize("sku", ["NOPE-1", "lower", "X" * 300])
def test_an_unknown_item_is_404(catalog, client, sku):
    assert_problem(get(client, f"/catalog/items/{sku}"), 404, "not-found")


def test_staff_create_an_item_then_change_it_and_each_change_is_an_event(catalog, client):
    # When an admin puts a new item
    created = put(client, "/catalog/items/BOLT-9", {**WIDGET, "unit": "KGM"})
    # Then it is created (201, Location) with its ItemUpserted event
    assert created.status_code == 201
    assert created.headers["Location"] == "/catalog/items/BOLT-9"
    assert json.loads(created.body)["version"] == 1
    assert [e["sku"] for e in events(catalog, "ItemUpserted")] == ["BOLT-9"]
    # When the same body is put again, nothing changes and nothing is written
    before = snapshot(catalog)
    again = put(client, "/catalog/items/BOLT-9", {**WIDGET, "unit": "KGM"})
    assert again.status_code == 200
    assert json.loads(again.body)["version"] == 1
    assert snapshot(catalog) == before
    # When it is deactivated, it is a new version with a second event
    changed = put(client, "/catalog/items/BOLT-9", {**WIDGET, "unit": "KGM", "active": False})
    assert changed.status_code == 200
    assert (json.loads(changed.body)["version"], json.loads(changed.body)["active"]) == (2, False)
    upserts = events(catalog, "ItemUpserted")
    assert [(e["version"], e["created"], e["active"]) for e in upserts] == sorted(
        [(1, True, True), (2, False, False)]
    )
    listed = json.loads(get(client, "/catalog/items").body)["items"]
    assert "BOLT-9" in [item["sku"] for item in listed]


def test_an_item_is_a_supply_of_goods_unless_it_says_services(catalog, client):
    # When staff put a new item without a supply, and another as services
    bolt = put(client, "/catalog/items/BOLT-9", WIDGET)
    setup = put(client, "/catalog/items/SETUP-1", {**WIDGET, "unit": "HUR", "supply": "services"})

    # Then the first is goods and the second services, as read back and as evented
    assert json.loads(bolt.body)["supply"] == "goods"
    assert json.loads(setup.body)["supply"] == "services"
    assert json.loads(get(client, "/catalog/items/SETUP-1").body)["supply"] == "services"
    supplies = {e["sku"]: e["supply"] for e in events(catalog, "ItemUpserted")}
    assert supplies == {"BOLT-9": "goods", "SETUP-1": "services"}


@pytest.mark.parametrize(
    ("path", "body", "status", "kind"),
    [
        ("/catalog/items/BOLT-9", b"{not json", 400, "malformed-json"),
        ("/catalog/items/BOLT-9", "[]", 422, "validation-error"),
        ("/catalog/items/BOLT-9", {**WIDGET, "unit": "BOX"}, 422, "validation-error"),
        ("/catalog/items/BOLT-9", {**WIDGET, "tax_category": "luxury"}, 422, "validation-error"),
        ("/catalog/items/BOLT-9", {**WIDGET, "active": "yes"}, 422, "validation-error"),
        ("/catalog/items/BOLT-9", {**WIDGET, "supply": "rights"}, 422, "validation-error"),
        ("/catalog/items/BOLT-9", {**WIDGET, "supply": None}, 422, "validation-error"),
        ("/catalog/items/BOLT-9", {**WIDGET, "price": "1"}, 422, "validation-error"),
        ("/catalog/items/bolt-9", WIDGET, 400, "invalid-query"),
        ("/catalog/items/" + "X" * 3000, WIDGET, 400, "invalid-query"),
        ("/catalog/items/WIDGET-1/prices/EUR", {"unit_price": "-1"}, 422, "validation-error"),
        ("/catalog/items/WIDGET-1/prices/EUR", {"unit_price": 1.5}, 422, "validation-error"),
        (
            "/catalog/items/WIDGET-1/prices/EUR",
            {"unit_price": "1.0000001"},
            422,
            "validation-error",
        ),
        ("/catalog/items/WIDGET-1/prices/XYZ", {"unit_price": "1"}, 400, "invalid-query"),
        ("/catalog/items/WIDGET-1/prices/eur", {"unit_price": "1"}, 400, "invalid-query"),
        ("/catalog/items/NOPE-1/prices/EUR", {"unit_price": "1"}, 404, "not-found"),
        (
            "/catalog/items/WIDGET-1/prices/EUR",
            {"unit_price": "1", "customer_id": "cus_nobody"},
            404,
            "not-found",
        ),
    ],
    ids=[
        "malformed",
        "array",
        "unknown-unit",
        "unknown-tax-category",
        "active-as-text",
        "unknown-supply",
        "null-supply",
        "unknown-field",
        "bad-sku",
        "huge-sku",
        "negative-price",
        "price-as-number",
        "seven-decimals",
        "unknown-currency",
        "lowercase-currency",
        "unknown-item",
        "unknown-customer",
    ],
)
def test_bad_catalog_writes_answer_problem_json_and_write_nothing(
    catalog, client, path, body, status, kind
):
    before = snapshot(catalog)
    problem = assert_problem(put(client, path, body), status, kind)
    if kind == "validation-error":
        assert all(error["pointer"].startswith("#") for error in problem["errors"])
    assert snapshot(catalog) == before


@pytest.mark.parametrize("key", [PARTNER_KEY, AUDITOR_KEY], ids=["partner", "auditor"])
def test_partners_and_auditors_read_the_catalog_but_cannot_change_it(catalog, client, key):
    before = snapshot(catalog)
    for path, body in [
        ("/catalog/items/BOLT-9", WIDGET),
        ("/catalog/items/WIDGET-1/prices/EUR", {"unit_price": "0.01"}),
    ]:
        assert_problem(put(client, path, body, key=key), 403, "forbidden")
    deleted = client.http.delete(
        "/catalog/items/WIDGET-1/prices/EUR/customers/cus_acme", headers={"X-Api-Key": key}
    )
    assert_problem(deleted, 403, "forbidden")
    assert snapshot(catalog) == before
    assert get(client, "/catalog/items/WIDGET-1", key=key).status_code == 200
    assert get(client, "/catalog/items", key=key).status_code == 200


def test_without_a_key_the_catalog_answers_401(catalog, client):
    assert_problem(client.http.get("/catalog/items"), 401, "unauthorized")
    assert_problem(put(client, "/catalog/items/BOLT-9", WIDGET, key=""), 401, "unauthorized")


# --- prices ----------------------------------------------------------------------------------


def test_a_list_price_is_set_changed_and_each_change_is_an_event(catalog, client):
    # When an admin sets a new USD price, then changes it, then sets it again unchanged
    created = put(client, "/catalog/items/WIDGET-1/prices/USD", {"unit_price": "21.5"})
    changed = put(client, "/catalog/items/WIDGET-1/prices/USD", {"unit_price": "22.00"})
    before = snapshot(catalog)
    same = put(client, "/catalog/items/WIDGET-1/prices/USD", {"unit_price": "22.000"})
    # Then: 201, 200, 200; the prices read back canonical; the no-op wrote nothing
    assert (created.status_code, changed.status_code, same.status_code) == (201, 200, 200)
    assert json.loads(created.body)["unit_price"] == "21.50"
    assert json.loads(same.body)["unit_price"] == "22.00"
    assert snapshot(catalog) == before
    assert json.loads(get(client, "/catalog/items/WIDGET-1").body)["prices"]["USD"] == "22.00"
    price_events = sorted(
        (e["unit_price"], e["previous_unit_price"]) for e in events(catalog, "PriceSet")
    )
    assert price_events == [("21.50", None), ("22.00", "21.50")]


def test_a_customer_price_applies_to_that_customer_only_until_removed(catalog, client):
    from functions.catalog.price_lines import price_lines

    # Given a price of its own for cus_acme
    response = put(
        client,
        "/catalog/items/WIDGET-1/prices/EUR",
        {"unit_price": "17", "customer_id": "cus_acme"},
    )
    assert response.status_code == 201
    assert json.loads(response.body)["customer_id"] == "cus_acme"
    line = Line("WIDGET-1", 2)
    # Then cus_acme pays it, cus_globex the list price
    [acme] = price_lines([line], "EUR", "cus_acme")
    [globex] = price_lines([line], "EUR", "cus_globex")
    assert (acme.unit_price, acme.line_total, acme.price_source) == (
        Decimal("17.00"),
        Decimal("34.00"),
        "customer",
    )
    assert (globex.unit_price, globex.price_source) == (Decimal("19.99"), "list")
    # When the customer's price is removed, the list price applies again
    path = "/catalog/items/WIDGET-1/prices/EUR/customers/cus_acme"
    removed = client.http.delete(path, headers={"X-Api-Key": ADMIN_KEY})
    assert removed.status_code == 204
    assert price_lines([line], "EUR", "cus_acme")[0].price_source == "list"
    assert [e["customer_id"] for e in events(catalog, "PriceRemoved")] == ["cus_acme"]
    # and removing it again is 404, writing nothing
    before = snapshot(catalog)
    assert_problem(client.http.delete(path, headers={"X-Api-Key": ADMIN_KEY}), 404, "not-found")
    assert snapshot(catalog) == before
    # and it can be set again
    again = put(
        client,
        "/catalog/items/WIDGET-1/prices/EUR",
        {"unit_price": "16", "customer_id": "cus_acme"},
    )
    assert again.status_code == 201
    assert price_lines([line], "EUR", "cus_acme")[0].unit_price == Decimal("16.00")


# --- pricing for the order service -----------------------------------------------------------


class Line:
    def __init__(self, sku: str, quantity: int, unit_price: str | None = None) -> None:
        self.sku, self.quantity, self.unit_price = sku, quantity, unit_price


def test_price_lines_prices_the_demo_order(catalog):
    from functions.catalog.price_lines import price_lines

    lines = price_lines(
        [Line("WIDGET-1", 3, "19.99"), Line("GADGET-2", 1), Line("SERVICE-HOUR", 2, "95")],
        "EUR",
        "cus_acme",
    )
    assert [(line.sku, str(line.line_total)) for line in lines] == [
        ("WIDGET-1", "59.97"),
        ("GADGET-2", "0.13"),
        ("SERVICE-HOUR", "190.00"),
    ]
    assert [line.unit for line in lines] == ["EA", "EA", "HUR"]
    assert [str(line.tax_category) for line in lines] == ["standard", "reduced", "standard"]


def test_price_lines_refuses_with_a_pointer_per_failing_line(catalog, client):
    from functions.catalog.price_lines import price_lines
    from shared.errors import DomainError
    from shared.http import problems

    # Given a retired item
    put(client, "/catalog/items/GADGET-2", {**WIDGET, "active": False})
    # When lines with every kind of failure are priced in GBP
    with pytest.raises(DomainError) as raised:
        price_lines(
            [
                Line("WIDGET-1", 1, "17.5"),  # fine: 17.50 == 17.5
                Line("NOPE-1", 1),
                Line("GADGET-2", 1),
                Line("SERVICE-HOUR", 1),
                Line("WIDGET-1", 1, "17.49"),
                Line("not a sku", 1),
            ],
            "GBP",
            "cus_globex",
        )
    # Then one 422 names them all
    answer = problems.of(raised.value)
    problem = answer.body()
    assert (answer.status, problem["type"]) == (
        422,
        "https://otc.example/problems/pricing-error",
    )
    errors = {error["pointer"]: error["detail"] for error in problem["errors"]}
    assert list(errors) == [
        "#/lines/1/sku",
        "#/lines/2/sku",
        "#/lines/3/sku",
        "#/lines/4/unit_price",
        "#/lines/5/sku",
    ]
    assert "no price in GBP" in errors["#/lines/3/sku"]
    assert "17.49" in errors["#/lines/4/unit_price"] and "17.50" in errors["#/lines/4/unit_price"]


def test_lookup_reads_every_fact_in_one_batch_get(catalog):
    from shared.adapters import aws
    from shared.store import catalog as catalog_store

    # Given a count of the app's DynamoDB calls
    calls: Counter[str] = Counter()
    aws.client("dynamodb").meta.events.register(
        "before-call.dynamodb", lambda model, **_: calls.update([model.name])
    )
    # When the facts of 30 SKUs (a few real) are looked up for a customer
    skus = ["WIDGET-1", "GADGET-2", "SERVICE-HOUR"] + [f"SKU-{n}" for n in range(27)]
    facts = catalog_store.lookup([*skus, "WIDGET-1", "bad sku"], "EUR", "cus_acme")
    # Then it took one BatchGetItem and nothing else
    assert calls == Counter({"BatchGetItem": 1})
    assert set(facts.items) == {"WIDGET-1", "GADGET-2", "SERVICE-HOUR"}
    assert facts.list_prices == {
        "WIDGET-1": Decimal("19.99"),
        "GADGET-2": Decimal("0.125"),
        "SERVICE-HOUR": Decimal("95.00"),
    }
    assert facts.customer_prices == {}


# --- the documentation -----------------------------------------------------------------------


def test_the_documented_catalog_and_stock_requests_match_the_models():
    from pathlib import Path

    import yaml
    from pydantic import BaseModel

    from shared.domain import pricing, stock

    spec = yaml.safe_load((Path(__file__).resolve().parents[2] / "openapi.yaml").read_text())
    documented: list[tuple[str, str, type[BaseModel]]] = [
        ("/catalog/items/{sku}", "put", pricing.ItemRequest),
        ("/catalog/items/{sku}/prices/{currency}", "put", pricing.PriceRequest),
        ("/stock/{sku}", "put", stock.SetOnHandRequest),
        ("/stock/{sku}/adjustments", "post", stock.AdjustmentRequest),
    ]
    for path, method, model in documented:
        body = spec["paths"][path][method]["requestBody"]["content"]["application/json"]
        model.model_validate(body["example"])
        schema = spec["components"]["schemas"][body["schema"]["$ref"].rsplit("/", 1)[1]]
        assert set(schema["properties"]) == set(model.model_fields), path
        required = {name for name, field in model.model_fields.items() if field.is_required()}
        assert set(schema["required"]) == required, path
    assert spec["components"]["schemas"]["UnitCode"]["enum"] == list(pricing.UNITS)
