"""Customer e-mails about their orders: one pure template per event, plain text and HTML.

Only what the customer should read goes in: a held order is "under review" (the internal reason
stays inside), a rejected order says why (the credit manager's decision ends that review), a
shipment lists what left the warehouse and how to track it, a closed order what will not ship.
Every value that came from an order is escaped in the HTML part, and nothing from an order can
break the subject.
"""

from __future__ import annotations

import html
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

ORDER_CONFIRMED = "OrderConfirmed"
ORDER_HELD = "OrderHeld"
ORDER_SHIPPED = "OrderShipped"
ORDER_REJECTED = "OrderRejected"
ORDER_CLOSED = "OrderClosed"
NOTIFIED_EVENTS = frozenset(
    {ORDER_CONFIRMED, ORDER_HELD, ORDER_SHIPPED, ORDER_REJECTED, ORDER_CLOSED}
)

# The notices a customer's ``order_notices`` governs; the others are always e-mailed
NOTICES_BY_PREFERENCE = frozenset({ORDER_CONFIRMED, ORDER_SHIPPED})
PARTNER_PREFIX = "prt_"  # the ids of partner systems (shared/domain/principal.py)

MAX_SUBJECT = 200
PORTAL_TEXT = "Your invoices, statement and payment options are online in your account"

Order = Mapping[str, Any]


@dataclass(frozen=True)
class Email:
    subject: str
    text: str
    html: str


@dataclass(frozen=True)
class _Row:
    cells: tuple[str, ...]


class UnknownNotificationError(ValueError):
    """No customer e-mail is defined for this event type."""


def wants_email(detail_type: str, order_notices: str, placed_by: object) -> bool:
    """Is the customer e-mailed about ``detail_type`` of an order ``placed_by`` that principal?

    Confirmations and shipping notices follow the customer's ``order_notices``: ``email``
    always, ``webhook`` and ``none`` never, ``default`` unless a partner system placed the order
    (it hears of the order through its webhook and tells its own user). So a cycle sends one
    e-mail by default, the invoice's.
    """
    if detail_type not in NOTICES_BY_PREFERENCE:
        return True
    if order_notices == "default":
        return not (isinstance(placed_by, str) and placed_by.startswith(PARTNER_PREFIX))
    return order_notices == "email"


def render(detail_type: str, order: Order, customer_name: str) -> Email:
    """The e-mail a customer gets for ``detail_type``; ``order`` is the event's ``data``."""
    renderer = _RENDERERS.get(detail_type)
    if renderer is None:
        raise UnknownNotificationError(detail_type)
    return renderer(order, customer_name)


def order_reference(order: Order) -> str:
    """What the customer knows the order by: their purchase order number, else our order id."""
    return _one_line(str(order.get("purchase_order") or order.get("id") or "")) or "(unknown)"


def portal_invitation(url: str) -> tuple[str, str]:
    """The paragraph inviting a contact to its account in the customer portal, as plain text
    and as HTML (``url``, a signed portal link, escaped in the ``href``)."""
    href = html.escape(url, quote=True)
    return (
        f"{PORTAL_TEXT}: {url}",
        f'<p>{html.escape(PORTAL_TEXT)}: <a href="{href}">Open your account</a></p>',
    )


def subject_line(text: str) -> str:
    """One line, no control characters (a header can never be injected), bounded length."""
    return _one_line(text)[:MAX_SUBJECT]


# --- the e-mails ---------------------------------------------------------------------------


def _confirmed(order: Order, customer_name: str) -> Email:
    reference = order_reference(order)
    lines = _lines(order)
    rows = [
        _Row(
            (
                _line_label(line),
                str(line.get("quantity", "")),
                _amount(line.get("unit_price"), order.get("currency")),
                _amount(line.get("line_total"), order.get("currency")),
            )
        )
        for line in lines
    ]
    backordered = [line for line in lines if _int(line.get("backordered")) > 0]
    total = order.get("total") or {}
    paragraphs = [
        f"we have confirmed your order {reference}.",
        f"Order total: {_amount(total.get('amount'), total.get('currency'))}.",
    ]
    if backordered:
        paragraphs.append(
            "Some items are backordered and will ship as soon as they are in stock: "
            + ", ".join(
                f"{_int(line.get('backordered'))} x {_line_label(line)}" for line in backordered
            )
            + "."
        )
    return _email(
        subject=f"Order {reference} confirmed",
        customer_name=customer_name,
        paragraphs=paragraphs,
        header=("Item", "Quantity", "Unit price", "Line total"),
        rows=rows,
        order=order,
    )


def _held(order: Order, customer_name: str) -> Email:
    reference = order_reference(order)
    paragraphs = [
        f"your order {reference} is under review.",
        "You do not need to do anything: we will e-mail you again as soon as it is confirmed.",
    ]
    return _email(
        subject=f"Order {reference} is under review",
        customer_name=customer_name,
        paragraphs=paragraphs,
        header=None,
        rows=[],
        order=order,
    )


def _shipped(order: Order, customer_name: str) -> Email:
    reference = order_reference(order)
    shipment = order.get("shipment") or {}
    by_line_no = {line.get("line_no"): line for line in _lines(order)}
    rows = []
    for shipped in shipment.get("lines") or []:
        line = by_line_no.get(shipped.get("line_no"), {})
        rows.append(_Row((_line_label({**line, **shipped}), str(shipped.get("quantity", "")))))
    remaining = any(
        _int(line.get("shipped")) < _int(line.get("quantity")) for line in _lines(order)
    )
    carrier = _one_line(str(shipment.get("carrier") or "the carrier"))
    tracking = _one_line(str(shipment.get("tracking_number") or ""))
    paragraphs = [
        f"{'part of ' if remaining else ''}your order {reference} has shipped.",
        f"Carrier: {carrier}. Tracking number: {tracking or 'not available'}.",
    ]
    if remaining:
        paragraphs.append("The rest of your order follows in a later shipment.")
    title = f"Part of order {reference} shipped" if remaining else f"Order {reference} shipped"
    return _email(
        subject=title,
        customer_name=customer_name,
        paragraphs=paragraphs,
        header=("Item", "Quantity shipped"),
        rows=rows,
        order=order,
    )


def _rejected(order: Order, customer_name: str) -> Email:
    """The end of the review the "under review" e-mail announced, with the decision's reason."""
    reference = order_reference(order)
    reason = _one_line(str(order.get("reason") or "")).rstrip(".")
    paragraphs = [
        f"we are sorry: we cannot accept your order {reference}.",
        f"Reason: {reason or 'not given'}.",
        "Nothing of this order will be shipped or invoiced. Please contact us with any questions.",
    ]
    return _email(
        subject=f"Order {reference} not accepted",
        customer_name=customer_name,
        paragraphs=paragraphs,
        header=None,
        rows=[],
        order=order,
    )


def _closed(order: Order, customer_name: str) -> Email:
    """The rest a partial shipment e-mail promised will not follow: what will not ship."""
    reference = order_reference(order)
    rows = [
        _Row((_line_label(line), str(_int(line.get("closed")))))
        for line in _lines(order)
        if _int(line.get("closed")) > 0
    ]
    paragraphs = [
        f"your order {reference} is complete with what has shipped.",
        "The rest of it will not be shipped or invoiced.",
    ]
    return _email(
        subject=f"Order {reference} closed: the rest will not ship",
        customer_name=customer_name,
        paragraphs=paragraphs,
        header=("Item", "Quantity not shipped"),
        rows=rows,
        order=order,
    )


_RENDERERS: dict[str, Callable[[Order, str], Email]] = {
    ORDER_CONFIRMED: _confirmed,
    ORDER_HELD: _held,
    ORDER_SHIPPED: _shipped,
    ORDER_REJECTED: _rejected,
    ORDER_CLOSED: _closed,
}


# --- layout -------------------------------------------------------------------------------------


def _email(
    *,
    subject: str,
    customer_name: str,
    paragraphs: Sequence[str],
    header: tuple[str, ...] | None,
    rows: Sequence[_Row],
    order: Order,
) -> Email:
    greeting = f"Hello {_one_line(customer_name) or 'customer'},"
    footer = f"Order id {_one_line(str(order.get('id') or ''))}. This is an automated message."
    text_parts = [greeting, "", *(_sentence(p) for p in paragraphs)]
    if header and rows:
        text_parts += ["", *(" | ".join(row.cells) for row in [_Row(header), *rows])]
    text_parts += ["", footer]
    html_parts = [f"<p>{html.escape(greeting)}</p>"]
    html_parts += [f"<p>{html.escape(_sentence(p))}</p>" for p in paragraphs]
    if header and rows:
        head = "".join(f"<th>{html.escape(cell)}</th>" for cell in header)
        body = "".join(
            "<tr>" + "".join(f"<td>{html.escape(cell)}</td>" for cell in row.cells) + "</tr>"
            for row in rows
        )
        html_parts.append(f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>")
    html_parts.append(f"<p><small>{html.escape(footer)}</small></p>")
    document = (
        '<!DOCTYPE html><html><head><meta charset="utf-8"></head><body>'
        + "".join(html_parts)
        + "</body></html>"
    )
    return Email(subject=subject_line(subject), text="\n".join(text_parts) + "\n", html=document)


def _sentence(paragraph: str) -> str:
    return paragraph[:1].upper() + paragraph[1:]


def _lines(order: Order) -> list[Mapping[str, Any]]:
    lines = order.get("lines") or []
    return [line for line in lines if isinstance(line, Mapping)]


def _line_label(line: Mapping[str, Any]) -> str:
    sku = _one_line(str(line.get("sku") or ""))
    name = _one_line(str(line.get("name") or ""))
    return f"{name} ({sku})" if name and sku and name != sku else name or sku or "item"


def _amount(amount: Any, currency: Any) -> str:
    if amount is None:
        return ""
    return f"{amount} {currency}" if currency else str(amount)


def _int(value: Any) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return 0


def _one_line(text: str) -> str:
    """Control characters, line and paragraph separators become spaces; runs collapse to one."""
    return " ".join("".join(ch if ch.isprintable() else " " for ch in text).split())
