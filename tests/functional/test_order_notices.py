"""Which order notices a customer is e-mailed: its ``order_notices``, by default none for an
order a partner system placed (the partner hears of it through its webhook), so a whole cycle
sends one e-mail, the invoice's."""

from __future__ import annotations

import email
import json
from typing import Any

import pytest

from tests.functional.accounts import call
from tests.functional.conftest import ADMIN_KEY, PARTNER_KEY, World, order_body, post_order
from tests.functional.invoicing import ship
from tests.functional.order_events import detail, put_on_bus
from tests.functional.test_notifications import _outbox, set_order_notices

SELLER = "ACME Industrial Supplies GmbH"  # the seeded seller profile


@pytest.mark.parametrize(
    ("preference", "placed_by", "emailed"),
    [
        ("default", "prt_demo", ["Order PO-4711 is under review"]),
        (
            "default",
            "stf_admin",
            [
                "Order PO-4711 confirmed",
                "Order PO-4711 is under review",
                "Part of order PO-4711 shipped",
            ],
        ),
        (
            "email",
            "prt_demo",
            [
                "Order PO-4711 confirmed",
                "Order PO-4711 is under review",
                "Part of order PO-4711 shipped",
            ],
        ),
        ("webhook", "stf_admin", ["Order PO-4711 is under review"]),
        ("none", "stf_admin", ["Order PO-4711 is under review"]),
    ],
)
def test_confirmations_and_shipping_notices_follow_the_customers_order_notices(
    world: World, client: Any, preference: str, placed_by: str, emailed: list[str]
) -> None:
    # Given the customer's preference (a partner system placed the order, or staff did)
    if preference != "default":
        set_order_notices(client, preference)

    # When its order is held, confirmed and shipped
    for detail_type in ("OrderHeld", "OrderConfirmed", "OrderShipped"):
        put_on_bus(world, detail_type, detail(detail_type, placed_by=placed_by))
    world.pump.drain()

    # Then the e-mails it asked for went out; a held order is always e-mailed
    assert sorted(message.subject for message in _outbox()) == emailed


@pytest.mark.parametrize(
    ("key", "order_emails"),
    [(PARTNER_KEY, []), (ADMIN_KEY, ["Order PO-4711 confirmed", "Order PO-4711 shipped"])],
)
def test_a_whole_cycle_of_a_partners_order_costs_one_email_by_default_the_invoice(
    world: World, client: Any, key: str, order_emails: list[str]
) -> None:
    # When an order is placed (by a partner system, or by staff), confirmed, shipped whole
    answer = post_order(client, order_body(purchase_order="PO-4711"), key=key)
    assert answer.status_code == 201, answer.body
    world.pump.drain()
    order = call(client, "GET", f"/orders/{json.loads(answer.body)['id']}").body
    ship(
        client, world, order["id"], [(line["line_no"], line["quantity"]) for line in order["lines"]]
    )
    world.pump.drain()

    # Then the customer got its invoice by e-mail, and order notices only for staff's order
    subjects = [
        getattr(message, "subject", None) or email.message_from_string(message.raw_data)["Subject"]
        for message in _outbox()
    ]
    [invoice] = call(client, "GET", "/invoices?customer_id=cus_acme").body["invoices"]
    assert subjects == [*order_emails, f"Invoice {invoice['number']} from {SELLER}"]
