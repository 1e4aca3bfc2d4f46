"""Every view of a customer's money agrees to the cent: statement, aging report, invoices.

Reproduces, over the API, the first audit's finding: a customer's statement said a closing balance
of 362.68 while its own aging totalled 350.00, because the aging listed invoices only and the
dunning fees and interest were in the balance but in no bucket.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta
from decimal import Decimal

import pytest

from shared import clock
from shared.domain.reconciliation import amount, customer_differences
from tests.functional.accounts import call
from tests.functional.books_machine import api_get, read_views
from tests.functional.cash import CUSTOMER, issued_invoice
from tests.functional.collections import charges, on, run_on
from tests.functional.conftest import World

ISSUED = date(2026, 11, 2)


@pytest.fixture(autouse=True)
def _restore_clock() -> Iterator[None]:
    yield
    clock.set_clock(None)


def test_fees_and_interest_are_open_items_in_the_statements_aging_and_the_report(
    client, world: World
):
    # Given an invoice due in 30 days that nobody pays, dunned to the second notice
    on(ISSUED)
    invoice = issued_invoice(client, world)
    assert invoice.due_on is not None
    second_notice = invoice.due_on + timedelta(days=14)
    run_on(world, invoice.due_on + timedelta(days=3))
    run_on(world, second_notice)
    charged = sum((amount for _, _, amount in charges()), Decimal(0))
    assert charged > Decimal("5.00")  # the 5.00 fee and the interest of 14 days

    # When the statement and the aging report of that day are read
    views = read_views(api_get(client), CUSTOMER)

    # Then the statement's aging holds the invoice and each charge, and sums to its balance
    aging = views.statement["aging"]
    owed = invoice.total + charged
    assert amount(views.statement["closing_balance"]) == owed
    assert amount(aging["total"]) == owed and amount(aging["balance"]) == owed
    kinds = sorted(item["kind"] for item in aging["open_invoices"])
    assert kinds == ["fee", "interest", "interest", "invoice"]
    fee = next(item for item in aging["open_invoices"] if item["kind"] == "fee")
    assert fee["number"] == invoice.number and amount(fee["amount_due"]) == Decimal("5.00")
    assert fee["due_on"] == second_notice.isoformat() and fee["bucket"] == "current"
    # and the aging report's row says the same, bucket by bucket
    assert views.aging_row is not None and amount(views.aging_row["balance"]) == owed
    assert {name: amount(money) for name, money in aging["buckets"].items()} == {
        name: amount(value) for name, value in views.aging_row["buckets"].items()
    }
    # and so do the credit figures (the run moved them with its charges) and the invoice
    assert customer_differences(views) == []


def test_money_held_for_the_customer_is_the_difference_between_its_open_items_and_its_balance(
    client, world: World
):
    # Given an invoice paid 10.00 too much by a cheque a clerk records
    on(ISSUED)
    invoice = issued_invoice(client, world)
    paid = invoice.total + Decimal("10.00")
    answer = call(
        client,
        "POST",
        "/payments",
        body={
            "amount": str(paid),
            "currency": "EUR",
            "method": "cheque",
            "received_on": ISSUED.isoformat(),
            "payer_name": "ACME Retail GmbH",
            "reference": "0001042",
            "remittance": invoice.number,
            "customer_id": CUSTOMER,
        },
    )
    assert answer.status == 201, answer.body
    world.pump.drain()

    # When the views are read
    views = read_views(api_get(client), CUSTOMER)

    # Then nothing is open, 10.00 is held, and the customer is owed 10.00 in every view
    aging = views.statement["aging"]
    assert amount(aging["total"]) == 0 and aging["open_invoices"] == []
    assert amount(aging["unapplied"]) == Decimal("10.00")
    assert amount(views.statement["closing_balance"]) == Decimal("-10.00")
    assert views.aging_row is not None
    assert amount(views.aging_row["unapplied"]) == Decimal("10.00")
    assert customer_differences(views) == []
