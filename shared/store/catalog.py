"""The catalog in the single table: items, list prices and customer prices, one partition per SKU.

| item | pk | sk |
| --- | --- | --- |
| item | ``ITEM#<sku>`` | ``ITEM`` (``gsi2pk=ITEMS``, ``gsi2sk=<sku>``: the listing) |
| list price | ``ITEM#<sku>`` | ``PRICE#<currency>`` |
| customer price | ``ITEM#<sku>`` | ``PRICE#<currency>#CUSTOMER#<customer id>`` |

A removed customer price keeps its item without ``unit_price`` (and with ``removed_at``): the
table's writes are Puts and Updates. Every change is one outbox transaction with its event.
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal

from shared import clock
from shared.domain import pricing
from shared.domain.pricing import CatalogFacts, CatalogItem, ItemRequest, Price
from shared.store import outbox, readable, table
from shared.store.table import Item, Put, Update

ITEMS_PARTITION = "ITEMS"
LISTING_INDEX = "gsi2"


def item_key(sku: str) -> tuple[str, str]:
    return f"ITEM#{sku}", "ITEM"


def price_key(sku: str, currency: str, customer_id: str | None = None) -> tuple[str, str]:
    suffix = f"#CUSTOMER#{customer_id}" if customer_id is not None else ""
    return f"ITEM#{sku}", f"PRICE#{currency}{suffix}"


# --- mapping ----------------------------------------------------------------------------------


def to_item(item: CatalogItem) -> Item:
    pk, sk = item_key(item.sku)
    return {
        "pk": pk,
        "sk": sk,
        "entity": "Item",
        "gsi2pk": ITEMS_PARTITION,
        "gsi2sk": item.sku,
        "sku": item.sku,
        "name": item.name,
        "unit": item.unit,
        "tax_category": item.tax_category.value,
        "supply": item.supply.value,
        "active": item.active,
        "version": item.version,
        "created_at": clock.iso(item.created_at),
        "updated_at": clock.iso(item.updated_at),
    }


@readable.reader
def from_item(raw: Item) -> CatalogItem:
    return CatalogItem(
        sku=raw["sku"],
        name=raw["name"],
        unit=raw["unit"],
        tax_category=pricing.TaxCategory(raw["tax_category"]),
        supply=pricing.Supply(raw.get("supply", pricing.Supply.GOODS)),
        active=bool(raw["active"]),
        version=int(raw["version"]),
        created_at=clock.parse(raw["created_at"]),
        updated_at=clock.parse(raw["updated_at"]),
    )


def price_item(price: Price) -> Item:
    pk, sk = price_key(price.sku, price.currency, price.customer_id)
    return {
        "pk": pk,
        "sk": sk,
        "entity": "Price",
        "sku": price.sku,
        "currency": price.currency,
        "customer_id": price.customer_id,
        "unit_price": price.unit_price,
        "updated_at": clock.iso(price.updated_at),
    }


@readable.reader
def from_price_item(raw: Item) -> Price | None:
    """The price, or None for a removed customer price."""
    if "unit_price" not in raw:
        return None
    return Price(
        sku=raw["sku"],
        currency=raw["currency"],
        unit_price=pricing.canonical(Decimal(raw["unit_price"]), raw["currency"]),
        customer_id=raw.get("customer_id"),
        updated_at=clock.parse(raw["updated_at"]),
    )


# --- items ------------------------------------------------------------------------------------


def get_item(sku: str) -> CatalogItem | None:
    if not pricing.is_sku(sku):
        return None
    raw = table.get(*item_key(sku))
    return from_item(raw) if raw else None


def put_item(sku: str, request: ItemRequest) -> tuple[CatalogItem, bool]:
    """Create or replace the item; answers it and whether it was created.

    Unchanged fields write nothing. Raises ``outbox.StaleStateError`` when another writer
    changed the item in between.
    """
    current = get_item(sku)
    change = pricing.upsert_item(sku, request, current)
    if change is None:
        assert current is not None
        return current, False
    item, event = change
    write = (
        Put.new(to_item(item)) if current is None else Put.replacing(to_item(item), current.version)
    )
    outbox.commit([write], [event])
    return item, current is None


def list_items(
    *, limit: int = 50, cursor: str | None = None
) -> tuple[list[CatalogItem], str | None]:
    """One page of items in SKU order; raises ``table.InvalidCursorError`` for a foreign cursor."""
    # sk_from "!" sorts before every SKU character; query_page needs a range condition to use #sk
    page = table.query_page(
        ITEMS_PARTITION, index=LISTING_INDEX, sk_from="!", limit=limit, cursor=cursor
    )
    return [from_item(raw) for raw in page.items], page.cursor


def get_item_with_prices(sku: str) -> tuple[CatalogItem | None, list[Price]]:
    """The item and its list prices (customer prices are left out), by one query per page."""
    if not pricing.is_sku(sku):
        return None, []
    pk, _ = item_key(sku)
    item: CatalogItem | None = None
    prices: list[Price] = []
    cursor: str | None = None
    while True:
        page = table.query_page(pk, sk_from="ITEM", sk_to="PRICE#~", limit=500, cursor=cursor)
        for raw in page.items:
            if raw["sk"] == "ITEM":
                item = from_item(raw)
            elif raw.get("customer_id") is None and (price := from_price_item(raw)):
                prices.append(price)
        if page.cursor is None:
            return item, prices
        cursor = page.cursor


# --- prices -----------------------------------------------------------------------------------


def get_price(sku: str, currency: str, customer_id: str | None = None) -> Price | None:
    raw = table.get(*price_key(sku, currency, customer_id))
    return from_price_item(raw) if raw else None


def set_price(
    sku: str, currency: str, unit_price: Decimal, customer_id: str | None = None
) -> tuple[Price, bool]:
    """Set the list price (or ``customer_id``'s price); answers it and whether it is new.

    The same price again writes nothing. Raises ``outbox.StaleStateError`` when another writer
    changed this price in between.
    """
    current = get_price(sku, currency, customer_id)
    change = pricing.set_price(sku, currency, unit_price, customer_id, current)
    if change is None:
        assert current is not None
        return current, False
    price, event = change
    if current is None:
        guard = Put(item=price_item(price), condition="attribute_not_exists(unit_price)")
    else:
        guard = Put(
            item=price_item(price),
            condition="unit_price = :previous",
            values={":previous": current.unit_price},
        )
    outbox.commit([guard], [event])
    return price, current is None


def remove_customer_price(sku: str, currency: str, customer_id: str) -> bool:
    """Drop a customer's price (the list price applies again); False when there was none."""
    current = get_price(sku, currency, customer_id)
    if current is None:
        return False
    event = pricing.remove_customer_price(current)
    now = clock.iso(event.occurred_at)
    outbox.commit(
        [
            Update(
                key=price_key(sku, currency, customer_id),
                expression="REMOVE unit_price SET removed_at = :now, updated_at = :now",
                condition="unit_price = :previous",
                values={":now": now, ":previous": current.unit_price},
            )
        ],
        [event],
    )
    return True


# --- pricing facts ----------------------------------------------------------------------------


def lookup_keys(
    skus: Iterable[str], currency: str, customer_id: str | None
) -> list[tuple[str, str]]:
    """The items ``lookup`` reads (to read them ahead with others: ``shared.store.read_ahead``)."""
    keys: list[tuple[str, str]] = []
    for sku in dict.fromkeys(skus):
        if pricing.is_sku(sku):
            keys += [item_key(sku), price_key(sku, currency)]
            if customer_id is not None:
                keys.append(price_key(sku, currency, customer_id))
    return keys


def lookup(skus: Iterable[str], currency: str, customer_id: str | None) -> CatalogFacts:
    """Items, list prices and the customer's prices of ``skus`` in ``currency``.

    ONE BatchGetItem (three keys per distinct SKU; DynamoDB takes 100 keys per call, so more
    than 33 distinct SKUs take more calls). Text that is no SKU is never looked up: it is
    simply not in the facts.
    """
    keys = lookup_keys(skus, currency, customer_id)
    items: dict[str, CatalogItem] = {}
    list_prices: dict[str, Decimal] = {}
    customer_prices: dict[str, Decimal] = {}
    for raw in table.get_many(keys) if keys else []:
        if raw["sk"] == "ITEM":
            items[raw["sku"]] = from_item(raw)
        elif (price := from_price_item(raw)) is not None:
            target = list_prices if price.customer_id is None else customer_prices
            target[price.sku] = price.unit_price
    return CatalogFacts(
        currency=currency,
        customer_id=customer_id,
        items=items,
        list_prices=list_prices,
        customer_prices=customer_prices,
    )
