"""The portal page's HTML: a Jinja2 template, autoescaped (pure: no AWS, no clock).

Every value is escaped by the template engine; the one piece of markup passed through is the
EPC QR code's SVG, built here from the module matrix (its title escaped where it is made).
Links are relative to the page (``<customer>/invoices/...``), so they work under any stage or
base path; each carries the page's token, the page's only credential.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlencode

from markupsafe import Markup

from functions.portal.view import Portal
from functions.rendering.html_pages import page


@dataclass(frozen=True)
class Links:
    """The portal's links relative to ``base`` (``""`` from the overview, ``"../../"`` from
    an invoice page, which sits two levels deeper), each carrying the page's token."""

    customer_id: str
    token: str
    base: str = ""

    def _to(self, suffix: str, **query: str) -> str:
        customer = quote(self.customer_id, safe="")
        return f"{self.base}{customer}{suffix}?{urlencode({**query, 'token': self.token})}"

    def overview(self) -> str:
        return self._to("")

    def invoice(self, invoice_id: str) -> str:
        return self._to(f"/invoices/{quote(invoice_id, safe='')}")

    def document(self, invoice_id: str, fmt: str) -> str:
        return self._to(f"/invoices/{quote(invoice_id, safe='')}/document", format=fmt)

    def cases(self) -> str:
        return self._to("/cases")

    def checkout(self) -> str:
        return self._to("/checkout")


def render(portal: Portal, token: str, checkout_state: str | None = None) -> str:
    """The page, its links carrying ``token``; ``checkout_state`` (``paid`` or ``cancelled``)
    when the browser comes back from Stripe's payment page."""
    links = Links(portal.customer_id, token)
    return page(
        "portal.html",
        portal=portal,
        aging=portal.statement["aging"],
        document=links.document,
        invoice_page=links.invoice,
        checkout_state=checkout_state if checkout_state in ("paid", "cancelled") else None,
        checkout=links.checkout(),
        cases_action=links.cases(),
        # The one markup passed through: drawn by rendering.qr_code, which escapes its title.
        qr_codes={
            invoice_id: Markup(transfer.qr_svg)  # noqa: S704
            for invoice_id, transfer in portal.transfers.items()
            if transfer.qr_svg
        },
    )


def render_invoice(invoice: dict[str, Any], grosses: dict[int, str], token: str) -> str:
    """One invoice's page: its lines (``grosses``: each line's amount with tax, what a dispute
    of the line may hold at most), its documents, and the form disputing one line."""
    links = Links(str(invoice["customer_id"]), token, base="../../")
    return page("invoice.html", invoice=invoice, grosses=grosses, links=links)
