"""Open items from the lake's positions (shared/lake/current.py): new charges are numbered by the
invoice the positions hold, an item nothing describes is not listed (the caller reads the whole
lake), and rows tie as the books' do."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from shared.lake import current

CUT = date(2026, 4, 9)
TODAY = date(2026, 4, 10)
INVOICE = current.About("invoice", "INV-7", date(2026, 3, 2), legacy=False)


def _start() -> current.Positions:
    items = {("cus_a", "EUR", "inv_7"): current.Position(date(2026, 4, 1), Decimal(50), INVOICE)}
    return current.Positions(CUT, items, {}, {"cus_a": "Acme"})


def _charge(item_id: str, charged_on: str | None, number: str | None = None) -> dict[str, Any]:
    return {
        "customer_id": "cus_a",
        "customer_name": None,
        "currency": "EUR",
        "item_id": item_id,
        "due_on": TODAY,
        "amount": Decimal(5),
        "kind": item_id.split(":", 1)[0] if number else None,
        "number": number,
        "issued_on": TODAY if number else None,
        "legacy": False if number else None,
        "charged_invoice_id": charged_on,
    }


def test_a_new_charge_is_numbered_by_the_invoice_the_positions_hold() -> None:
    # Given a fee charged on inv_7 the day after the cut, its invoice's document older
    rolled = current.roll(_start(), [_charge("fee:inv_7:2", "inv_7")], TODAY)

    # Then its row carries inv_7's number, issued and due the day it was charged
    rows = current.open_items(rolled).to_wire()["items"]
    assert [(row["item_id"], row["kind"], row["number"], row["issued_on"]) for row in rows] == [
        ("inv_7", "invoice", "INV-7", "2026-03-02"),
        ("fee:inv_7:2", "fee", "INV-7", "2026-04-10"),
    ]


def test_a_charge_on_an_invoice_the_positions_do_not_hold_ages_but_is_not_listed() -> None:
    # Given a fee on an invoice closed at the cut (its number is in no row read)
    rolled = current.roll(_start(), [_charge("fee:inv_3:2", "inv_3")], TODAY)

    # Then the aging counts it, and the open items cannot be listed from the positions
    assert current.aging(rolled).currencies[0].totals.total == Decimal(55)
    with pytest.raises(current.Unplaceable):
        current.open_items(rolled)


def test_rows_due_the_same_day_keep_the_books_order() -> None:
    # Given interest and a fee charged the same day, the fee rolled in after the interest
    found = [
        _charge("interest:inv_7:2026-04-10", None, "INV-7"),
        _charge("fee:inv_7:2", None, "INV-7"),
    ]
    rolled = current.roll(_start(), found, TODAY)

    # Then they are listed by item id, as the books list them; the wire form reads back
    rows = current.open_items(rolled).to_wire()["items"]
    assert [row["item_id"] for row in rows][1:] == ["fee:inv_7:2", "interest:inv_7:2026-04-10"]
    assert current.Positions.from_wire(rolled.to_wire()) == rolled
