"""The customer e-mail templates: pure rendering of order events, no AWS."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shared.domain import notifications
from shared.domain.notifications import UnknownNotificationError
from tests.functional.order_events import detail, shipment

CUSTOMER = "ACME Retail GmbH"


def _render(detail_type: str, **kwargs) -> notifications.Email:
    return notifications.render(detail_type, detail(detail_type, **kwargs)["data"], CUSTOMER)


def test_a_confirmation_names_the_purchase_order_the_lines_and_the_total():
    email = _render("OrderConfirmed")
    assert email.subject == "Order PO-4711 confirmed"
    for part in (email.text, email.html):
        assert "Hello ACME Retail GmbH," in part
        assert "60.10 EUR" in part
        assert "19.99 EUR" in part
    assert "Widget, blue (WIDGET-1) | 3 | 19.99 EUR | 59.97 EUR" in email.text
    assert "<td>Widget, blue (WIDGET-1)</td><td>3</td>" in email.html


def test_an_order_without_a_purchase_order_is_named_by_its_id():
    email = _render(
        "OrderConfirmed", purchase_order=None, order_id="ord_01KAT3ZPD9X4M6Q2B8N5R7V0WE"
    )
    assert email.subject == "Order ord_01KAT3ZPD9X4M6Q2B8N5R7V0WE confirmed"


def test_backordered_items_are_announced_with_the_confirmation():
    data = detail("OrderConfirmed")["data"]
    data["lines"][1] |= {"reserved": 0, "backordered": 1}
    email = notifications.render("OrderConfirmed", data, CUSTOMER)
    assert "backordered" in email.text
    assert "1 x Gadget <pro> (GADGET-2)" in email.text


def test_a_hold_says_under_review_and_never_why():
    email = _render("OrderHeld", reason="credit limit exceeded by 1,250.00 EUR")
    assert email.subject == "Order PO-4711 is under review"
    for part in (email.text, email.html):
        assert "under review" in part
        assert "credit" not in part.lower()
        assert "1,250" not in part


def test_a_full_shipment_lists_every_line_shipped_with_carrier_and_tracking():
    ship = shipment(
        [(1, "WIDGET-1", 3), (2, "GADGET-2", 1)], carrier="DHL", tracking_number="JJD01"
    )
    email = _render("OrderShipped", ship=ship)
    assert email.subject == "Order PO-4711 shipped"
    assert "Carrier: DHL. Tracking number: JJD01." in email.text
    assert "Widget, blue (WIDGET-1) | 3" in email.text
    assert "Gadget <pro> (GADGET-2) | 1" in email.text
    assert "later shipment" not in email.text


def test_a_partial_shipment_says_the_rest_follows():
    email = _render("OrderShipped", ship=shipment([(1, "WIDGET-1", 2)], tracking_number="1Z9"))
    assert email.subject == "Part of order PO-4711 shipped"
    assert "Part of your order PO-4711 has shipped." in email.text
    assert "Widget, blue (WIDGET-1) | 2" in email.text
    assert "GADGET-2" not in email.text
    assert "The rest of your order follows in a later shipment." in email.text
    assert "1Z9" in email.html


def test_everything_from_the_order_is_escaped_in_html():
    email = _render(
        "OrderShipped",
        purchase_order='<script>alert("x")</script>',
        ship=shipment([(2, "GADGET-2", 1)], carrier="<b>Evil & Co</b>"),
    )
    assert "<script>" not in email.html
    assert "&lt;script&gt;" in email.html
    assert "&lt;b&gt;Evil &amp; Co&lt;/b&gt;" in email.html
    assert "Gadget &lt;pro&gt;" in email.html
    assert "<pro>" not in email.html


def test_a_subject_cannot_carry_a_header():
    email = _render("OrderConfirmed", purchase_order="PO-1\r\nBcc: victim@example.com")
    assert "\r" not in email.subject and "\n" not in email.subject
    assert email.subject == "Order PO-1 Bcc: victim@example.com confirmed"


@given(purchase_order=st.text(max_size=300))
def test_any_purchase_order_gives_a_one_line_bounded_subject(purchase_order):
    email = _render("OrderConfirmed", purchase_order=purchase_order)
    assert email.subject.isprintable() or not email.subject
    assert len(email.subject) <= notifications.MAX_SUBJECT
    assert "\n" not in email.subject


def test_a_sparse_order_still_renders():
    """Fields the order side may add later (name, line_no, shipment details) are optional."""
    sparse = {"id": "ord_1", "lines": [{"sku": "W", "quantity": 1}], "shipment": {"lines": []}}
    for detail_type in sorted(notifications.NOTIFIED_EVENTS):
        email = notifications.render(detail_type, sparse, "")
        assert "ord_1" in email.subject
        assert email.text and email.html.startswith("<!DOCTYPE html>")


def test_other_events_have_no_email():
    with pytest.raises(UnknownNotificationError):
        notifications.render("OrderReceived", detail("OrderReceived")["data"], CUSTOMER)


def test_a_rejection_says_so_with_the_reason_escaped():
    order = detail("OrderRejected", reason="Overdue <invoices>.")["data"]
    email = notifications.render("OrderRejected", order, CUSTOMER)
    assert email.subject == "Order PO-4711 not accepted"
    assert "Reason: Overdue <invoices>." in email.text
    assert "Reason: Overdue &lt;invoices&gt;." in email.html


def test_a_closing_lists_what_will_not_ship():
    order = detail("OrderClosed")["data"]
    order["lines"][0].update(shipped=2, closed=1)
    order["lines"][1].update(shipped=1, closed=0)
    email = notifications.render("OrderClosed", order, CUSTOMER)
    assert email.subject == "Order PO-4711 closed: the rest will not ship"
    assert "Widget, blue (WIDGET-1) | 1" in email.text
    assert "GADGET-2" not in email.text
