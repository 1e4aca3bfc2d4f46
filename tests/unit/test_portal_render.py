"""The portal page escapes every value it shows, and passes through only the QR code it draws."""

from __future__ import annotations

import re

from functions.portal.render import render
from functions.portal.view import Portal, Transfer
from functions.rendering.html_pages import money

HOSTILE = '<img src=x onerror="alert(1)">&'


def _money(amount: str) -> dict[str, str]:
    return {"amount": amount, "currency": "EUR"}


def _portal() -> Portal:
    aged = {
        "invoice_id": "inv_1",
        "number": HOSTILE,
        "issued_on": "2026-11-01",
        "due_on": "2026-12-01",
        "amount_due": _money("1234.5"),
        "days_overdue": 6,
        "bucket": "1-30",
        "legacy": False,
        "kind": "invoice",
    }
    line = {
        "posted_on": "2026-11-01",
        "kind": "invoice",
        "reference": HOSTILE,
        "description": HOSTILE,
        "debit": _money("1234.5"),
        "credit": _money("0"),
        "balance": _money("1234.5"),
    }
    statement = {
        "from": "2026-09-08",
        "to": "2026-12-07",
        "opening_balance": _money("0"),
        "lines": [line],
        "aging": {
            "as_of": "2026-12-07",
            "buckets": {"current": _money("0"), "1-30": _money("1234.5")},
            "total": _money("1234.5"),
            "unapplied": _money("0"),
            "balance": _money("1234.5"),
            "open_invoices": [aged],
        },
    }
    transfer = Transfer(
        account_name=HOSTILE,
        iban="DE89370400440532013000",
        bic=None,
        amount="1234.50",
        currency="EUR",
        reference=HOSTILE,
        qr_svg='<svg data-drawn="yes"></svg>',
    )
    return Portal(
        customer_id="cus_<x>",
        customer_name=HOSTILE,
        contact=HOSTILE,
        statement=statement,
        transfers={"inv_1": transfer},
        invoices=[
            {
                "id": "inv_1",
                "number": HOSTILE,
                "kind": "invoice",
                "issued_on": "x",
                "status": HOSTILE,
                "total": _money("1"),
                "amount_due": _money("1"),
            }
        ],
        orders=[
            {
                "id": HOSTILE,
                "created_at": "2026-11-01T00:00:00Z",
                "purchase_order": HOSTILE,
                "status": "shipped",
                "total": _money("1"),
            }
        ],
        credits={
            "credits": [
                {
                    "source": {"kind": "payment", "id": HOSTILE},
                    "reference": HOSTILE,
                    "date": "2026-11-01T00:00:00Z",
                    "remaining": _money("5"),
                }
            ],
            "total": _money("5"),
        },
    )


def test_every_value_is_escaped_and_only_the_drawn_qr_code_is_markup():
    # When a page of hostile values is rendered
    page = render(_portal(), token='t"&<')

    # Then no value became markup; the QR code did
    assert "<img" not in page and 'onerror="' not in page
    assert page.count("&lt;img src=x onerror=") >= 8
    assert '<svg data-drawn="yes"></svg>' in page
    # and links carry the token and the customer id encoded, relative to the page
    assert 'href="cus_%3Cx%3E/invoices/inv_1/document?format=pdf&amp;token=t%22%26%3C"' in page
    assert not re.search(r'href="/', page)


def test_amounts_show_with_their_places_and_currency():
    assert money(_money("1234.5")) == "1,234.5 EUR"
    assert money({"amount": "1234.50", "currency": "EUR"}) == "1,234.50 EUR"
    assert money({"amount": "not a number", "currency": "EUR"}) == "0 EUR"
    assert money(None) == ""
