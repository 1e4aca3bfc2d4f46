"""The portal page's HTML: a Jinja2 template, autoescaped (pure: no AWS, no clock).

Every value is escaped by the template engine; the one piece of markup passed through is the
EPC QR code's SVG, built here from the module matrix (its title escaped where it is made).
Links are relative to the page (``<customer>/invoices/...``), so they work under any stage or
base path; each carries the page's token, the page's only credential.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from markupsafe import Markup

from functions.portal.view import Portal

TEMPLATES = Path(__file__).resolve().parent / "templates"


@cache
def _environment() -> Environment:
    environment = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(default=True, default_for_string=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    environment.filters["money"] = money
    return environment


def money(value: Any) -> str:
    """``{"amount": "1234.5", "currency": "EUR"}`` -> ``"1,234.50 EUR"`` (the wire's places)."""
    if not isinstance(value, dict):
        return ""
    try:
        amount = Decimal(str(value.get("amount", "0")))
    except InvalidOperation:
        amount = Decimal(0)
    return f"{amount:,} {value.get('currency', '')}".strip()


def render(portal: Portal, token: str, checkout_state: str | None = None) -> str:
    """The page, its links carrying ``token``; ``checkout_state`` (``paid`` or ``cancelled``)
    when the browser comes back from Stripe's payment page."""

    def document(invoice_id: str, fmt: str) -> str:
        query = urlencode({"format": fmt, "token": token})
        customer, invoice = quote(portal.customer_id, safe=""), quote(invoice_id, safe="")
        return f"{customer}/invoices/{invoice}/document?{query}"

    customer = quote(portal.customer_id, safe="")
    link = {"token": token}
    return (
        _environment()
        .get_template("portal.html")
        .render(
            portal=portal,
            aging=portal.statement["aging"],
            document=document,
            checkout_state=checkout_state if checkout_state in ("paid", "cancelled") else None,
            checkout=f"{customer}/checkout?{urlencode({'token': token})}",
            cases_action=f"{quote(portal.customer_id, safe='')}/cases?{urlencode(link)}",
            # The one markup passed through: built by functions.qr_code, its title escaped there.
            qr_codes={
                invoice_id: Markup(transfer.qr_svg)  # noqa: S704
                for invoice_id, transfer in portal.transfers.items()
                if transfer.qr_svg
            },
        )
    )
