"""Demo catalog: two stocked goods and a service, with EUR and GBP list prices.

SERVICE-HOUR has no stock item: a SKU without one is not stock-tracked (always available,
nothing is reserved for it). Like the rest of the seed this is loaded state, not a business
change, so it writes no events.
"""

from __future__ import annotations

from decimal import Decimal

from shared import clock
from shared.domain.pricing import CatalogItem, Price, Supply, TaxCategory
from shared.domain.stock import StockLevel
from shared.store import catalog, stock, table
from shared.store.table import Item, Put

DEMO_ITEMS = (
    ("WIDGET-1", "Widget", "EA", TaxCategory.STANDARD, Supply.GOODS),
    ("GADGET-2", "Gadget", "EA", TaxCategory.REDUCED, Supply.GOODS),
    ("SERVICE-HOUR", "Service hour", "HUR", TaxCategory.STANDARD, Supply.SERVICES),
)
DEMO_PRICES = (
    ("WIDGET-1", "EUR", "19.99"),
    ("WIDGET-1", "GBP", "17.50"),
    ("GADGET-2", "EUR", "0.125"),
    ("GADGET-2", "GBP", "0.11"),
    ("SERVICE-HOUR", "EUR", "95.00"),
)
DEMO_ON_HAND = (("WIDGET-1", 1000), ("GADGET-2", 5000))


def demo_catalog_items() -> list[Item]:
    now = clock.now()
    items = [
        catalog.to_item(
            CatalogItem(
                sku=sku,
                name=name,
                unit=unit,
                tax_category=tax,
                supply=supply,
                active=True,
                version=1,
                created_at=now,
                updated_at=now,
            )
        )
        for sku, name, unit, tax, supply in DEMO_ITEMS
    ]
    items += [
        catalog.price_item(
            Price(sku=sku, currency=currency, unit_price=Decimal(amount), updated_at=now)
        )
        for sku, currency, amount in DEMO_PRICES
    ]
    items += [
        stock.to_item(StockLevel(sku=sku, available=on_hand, reserved=0, version=1, updated_at=now))
        for sku, on_hand in DEMO_ON_HAND
    ]
    return items


def seed_catalog() -> None:
    """Write the demo items, prices and stock (once: a second call fails, like the seed)."""
    table.transact([Put.new(item) for item in demo_catalog_items()])
