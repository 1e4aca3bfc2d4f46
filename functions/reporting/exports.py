"""The reports as sheets (shared/adapters/spreadsheets.py) for their CSV and XLSX answers.

Each sheet is built from the report's JSON answer, so a download holds the very figures the JSON
shows (the nightly snapshot of the aging included):

- aging: one row per currency and customer (a column per bucket), then the currency's total
  (``customer_id`` empty, ``customer_name`` TOTAL);
- open items: one row per open item;
- KPIs: one row per currency, a column per KPI (an undefined ratio is an empty cell).
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from shared.adapters.spreadsheets import Cell, Column, Sheet
from shared.domain.kpis import CurrencyKpis

TOTAL = "TOTAL"
_COUNTS = frozenset(
    name for name, field in CurrencyKpis.model_fields.items() if field.annotation in {int, "int"}
)


def _money(value: str | None) -> Decimal | None:
    return None if value is None else Decimal(value)


def aging_sheet(answer: dict[str, Any]) -> Sheet:
    labels = answer["buckets"]
    columns = (
        Column("as_of", "date"),
        Column("currency"),
        Column("customer_id"),
        Column("customer_name"),
        *(Column(label, "money") for label in labels),
        Column("total", "money"),
        Column("unapplied", "money"),
        Column("balance", "money"),
        Column("open_items", "number"),
    )
    as_of = date.fromisoformat(answer["as_of"])
    sheet = Sheet("Aging", columns)
    for group in answer["currencies"]:
        for row in (*group["customers"], {**group["totals"], "customer_name": TOTAL}):
            sheet.rows.append(
                (
                    as_of,
                    group["currency"],
                    row.get("customer_id"),
                    row.get("customer_name"),
                    *(_money(row["buckets"][label]) for label in labels),
                    _money(row["total"]),
                    _money(row["unapplied"]),
                    _money(row["balance"]),
                    row["open_items"],
                )
            )
    return sheet


def open_items_sheet(answer: dict[str, Any]) -> Sheet:
    columns = (
        Column("as_of", "date"),
        Column("currency"),
        Column("customer_id"),
        Column("customer_name"),
        Column("item_id"),
        Column("kind"),
        Column("number"),
        Column("issued_on", "date"),
        Column("due_on", "date"),
        Column("days_past_due", "number"),
        Column("bucket"),
        Column("amount", "money"),
        Column("legacy"),
    )
    as_of = date.fromisoformat(answer["as_of"])
    sheet = Sheet("Open items", columns)
    for item in answer["items"]:
        sheet.rows.append(
            (
                as_of,
                item["currency"],
                item["customer_id"],
                item["customer_name"],
                item["item_id"],
                item["kind"],
                item["number"],
                date.fromisoformat(item["issued_on"]),
                date.fromisoformat(item["due_on"]),
                item["days_past_due"],
                item["bucket"],
                _money(item["amount"]),
                "yes" if item["legacy"] else "no",
            )
        )
    return sheet


def kpi_sheet(answer: dict[str, Any]) -> Sheet:
    """Amounts, days and percentages as 2-decimal numbers, counts as whole numbers."""
    names = [name for name in CurrencyKpis.model_fields if name != "currency"]
    columns = (
        Column("from", "date"),
        Column("to", "date"),
        Column("days", "number"),
        Column("currency"),
        *(Column(name, "number" if name in _COUNTS else "money") for name in names),
    )
    start, end = date.fromisoformat(answer["from"]), date.fromisoformat(answer["to"])
    sheet = Sheet("KPIs", columns)
    for group in answer["currencies"]:
        figures: list[Cell] = [
            group[name] if name in _COUNTS else _money(group[name]) for name in names
        ]
        sheet.rows.append((start, end, answer["days"], group["currency"], *figures))
    return sheet
