"""HTTP routes of the catalog: items, prices and stock levels."""

from __future__ import annotations

from typing import TYPE_CHECKING

from chalice import Response

from shared.domain.access import Action
from shared.http.routing import Answer, Routes, json_response, no_content

if TYPE_CHECKING:
    from shared.http.auth import Principal

routes = Routes(__name__)


@routes.route("/catalog/items", methods=["GET"], requires=Action.READ)
def list_catalog_items() -> Response:
    from functions.catalog.list_items import ItemQuery, list_items

    return json_response(list_items(routes.query(ItemQuery)))


@routes.route("/catalog/items/{sku}", methods=["GET"], requires=Action.READ)
def get_catalog_item(sku: str) -> Response:
    from functions.catalog.get_item import get_item

    return json_response(get_item(sku))


@routes.route("/catalog/items/{sku}", methods=["PUT"], requires=Action.MANAGE_CATALOG)
def put_catalog_item(sku: str) -> Response:
    from functions.catalog.upsert_item import upsert_item
    from shared.domain.pricing import ItemRequest

    item, created = upsert_item(sku, routes.json_body(ItemRequest))
    if created:
        return json_response(item.to_wire(), 201, {"Location": f"/catalog/items/{sku}"})
    return json_response(item.to_wire())


@routes.route(
    "/catalog/items/{sku}/prices/{currency}", methods=["PUT"], requires=Action.MANAGE_CATALOG
)
def put_catalog_price(sku: str, currency: str) -> Response:
    from functions.catalog.set_price import set_price
    from shared.domain.pricing import PriceRequest

    price, created = set_price(sku, currency, routes.json_body(PriceRequest))
    return json_response(price.to_wire(), 201 if created else 200)


@routes.route(
    "/catalog/items/{sku}/prices/{currency}/customers/{customer_id}",
    methods=["DELETE"],
    requires=Action.MANAGE_CATALOG,
)
def delete_customer_price(sku: str, currency: str, customer_id: str) -> Response:
    from functions.catalog.remove_customer_price import remove_customer_price

    remove_customer_price(sku, currency, customer_id)
    return no_content()


@routes.route("/stock/{sku}", methods=["GET"], requires=Action.READ)
def get_stock(sku: str, principal: Principal) -> Response:
    from functions.catalog.get_stock import get_stock

    return json_response(get_stock(sku, principal))


@routes.route("/stock/{sku}", methods=["PUT"], requires=Action.MANAGE_CATALOG)
def put_stock(sku: str) -> Response:
    from functions.catalog.set_stock import set_stock
    from shared.domain.stock import SetOnHandRequest

    level, started = set_stock(sku, routes.json_body(SetOnHandRequest))
    return json_response(level.to_wire(), 201 if started else 200)


@routes.route("/stock/{sku}/adjustments", methods=["POST"], requires=Action.MANAGE_CATALOG)
def post_stock_adjustment(sku: str, principal: Principal) -> Response:
    from functions.catalog import params
    from functions.catalog.adjust_stock import adjust_stock
    from shared.domain.stock import AdjustmentRequest

    adjustment = routes.json_body(AdjustmentRequest)

    def run() -> Answer:
        return {"status": 200, "body": adjust_stock(sku, adjustment).to_wire()}

    return routes.once(f"stock.adjust.{params.sku(sku)}", principal, adjustment, run)
