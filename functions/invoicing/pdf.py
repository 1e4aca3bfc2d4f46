"""The PDF of an invoice or credit note: what the buyer reads, prints and files.

An A4 document with the seller and the buyer, the document's number and dates, the lines, the
tax breakdown, the totals and how to pay. Long documents run over several pages; the lines
table repeats its headings and every page says which page of how many it is.

Rendered with fpdf2's core fonts (Helvetica), which keeps the document small and needs no font
files, but covers Latin-1 only: other characters are written as their closest Latin-1 form
("Łódź" becomes "Lódz") rather than failing the document. The creation date is the issue time,
so the same document always renders to the same bytes.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from decimal import Decimal

from fpdf import FPDF, FontFace
from fpdf.enums import XPos, YPos
from fpdf.table import Table

from shared.domain.invoice import DocumentKind, Invoice, Party, TaxCode
from shared.domain.money import quantize

CONTENT_TYPE = "application/pdf"

FONT = "Helvetica"
MARGIN = 15.0
LINE = 5.0
RIGHT_COLUMN = 120.0
GREY = (110, 110, 110)
HEADINGS = FontFace(emphasis="BOLD", fill_color=(230, 230, 230))

REVERSE_CHARGE_NOTE = (
    "Reverse charge: the recipient is liable for the VAT "
    "(Article 196 of Council Directive 2006/112/EC)."
)
# Characters Latin-1 lacks that business text often holds, and NFKD cannot reduce.
TRANSLITERATIONS = str.maketrans(
    {
        "ł": "l",
        "Ł": "L",
        "đ": "d",
        "Đ": "D",
        "ħ": "h",
        "\u0131": "i",  # dotless i
        "œ": "oe",
        "Œ": "OE",
        "€": "EUR",
        "\u2013": "-",  # en dash
        "\u2014": "-",  # em dash
        "\u2018": "'",  # quotation marks
        "\u2019": "'",
        "\u201a": ",",
        "\u201c": '"',
        "\u201d": '"',
        "\u201e": '"',
        "\u2026": "...",  # ellipsis
        "\u2022": "-",  # bullet
        "\u00a0": " ",  # no-break space
    }
)


def render_pdf(invoice: Invoice) -> bytes:
    document = _Document(invoice)
    document.add_page()
    _heading(document, invoice)
    _parties_and_terms(document, invoice)
    _lines(document, invoice)
    _taxes(document, invoice)
    _totals(document, invoice)
    _payment(document, invoice)
    return bytes(document.output())


def latin1(text: str) -> str:
    """``text`` in characters the core fonts can draw: decomposed, transliterated, else '?'."""
    text = text.translate(TRANSLITERATIONS)
    if _encodable(text):
        return text
    kept = []
    for char in text:
        if _encodable(char):
            kept.append(char)
            continue
        base = "".join(c for c in unicodedata.normalize("NFKD", char) if _encodable(c))
        kept.append(base if base and not unicodedata.combining(base[0]) else "?")
    return "".join(kept)


class _Document(FPDF):
    """A4 portrait, with the document's number and the page count at the foot of each page."""

    def __init__(self, invoice: Invoice) -> None:
        super().__init__(orientation="portrait", unit="mm", format="A4")
        self.invoice = invoice
        self.set_margins(MARGIN, MARGIN, MARGIN)
        self.set_auto_page_break(auto=True, margin=MARGIN + 5)
        self.set_creation_date(invoice.issued_at)
        self.set_title(latin1(f"{_title(invoice)} {invoice.number}"))
        self.set_author(latin1(invoice.seller.name))

    def footer(self) -> None:
        self.set_y(-MARGIN)
        self.set_font(FONT, size=8)
        self.set_text_color(*GREY)
        text = f"{_title(self.invoice)} {self.invoice.number} - page {self.page_no()}/{{nb}}"
        self.cell(0, LINE, latin1(text), align="R")
        self.set_text_color(0, 0, 0)

    def write_lines(self, lines: Sequence[str], *, x: float, width: float, bold: int = 0) -> float:
        """Write ``lines`` at ``x``, the first ``bold`` of them in bold; returns the y below."""
        for index, text in enumerate(lines):
            self.set_x(x)
            self.set_font(FONT, style="B" if index < bold else "", size=10)
            self.multi_cell(width, LINE, latin1(text), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        return self.get_y()


# --- blocks -----------------------------------------------------------------------------------


def _heading(document: _Document, invoice: Invoice) -> None:
    top = document.get_y()
    below_seller = document.write_lines(
        _party_lines(invoice.seller), x=MARGIN, width=RIGHT_COLUMN - MARGIN - 5, bold=1
    )
    document.set_xy(RIGHT_COLUMN, top)
    document.set_font(FONT, style="B", size=20)
    document.cell(0, 10, latin1(_title(invoice)), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    below_title = document.write_lines(
        [f"No. {invoice.number}", f"Issue date: {invoice.issued_on.isoformat()}"],
        x=RIGHT_COLUMN,
        width=0,
        bold=1,
    )
    document.set_y(max(below_seller, below_title) + 8)


def _parties_and_terms(document: _Document, invoice: Invoice) -> None:
    top = document.get_y()
    below_buyer = document.write_lines(
        ["Bill to", *_party_lines(invoice.buyer)],
        x=MARGIN,
        width=RIGHT_COLUMN - MARGIN - 5,
        bold=2,
    )
    document.set_y(top)
    below_terms = document.write_lines(_terms_lines(invoice), x=RIGHT_COLUMN, width=0)
    document.set_y(max(below_buyer, below_terms) + 8)


def _lines(document: _Document, invoice: Invoice) -> None:
    document.set_font(FONT, size=9)
    currency = invoice.currency
    with document.table(
        col_widths=(10, 62, 16, 14, 26, 16, 36),
        text_align=("RIGHT", "LEFT", "RIGHT", "CENTER", "RIGHT", "RIGHT", "RIGHT"),
        headings_style=HEADINGS,
        line_height=LINE,
    ) as table:
        _row(table, ("No", "Item", "Qty", "Unit", "Unit price", "Tax %", "Net"))
        for line in invoice.lines:
            _row(
                table,
                (
                    str(line.line_no),
                    f"{line.name} ({line.sku})",
                    _number(line.quantity),
                    line.unit,
                    _price(line.unit_price, currency),
                    f"{_number(line.tax_rate)} ({line.tax_code.value})",
                    _amount(line.net_amount, currency),
                ),
            )
    document.ln(6)


def _taxes(document: _Document, invoice: Invoice) -> None:
    document.set_font(FONT, size=9)
    with document.table(
        col_widths=(16, 16, 30, 30, 88),
        text_align=("CENTER", "RIGHT", "RIGHT", "RIGHT", "LEFT"),
        headings_style=HEADINGS,
        line_height=LINE,
    ) as table:
        _row(table, ("Tax", "Rate %", "Taxable", "Tax", "Exemption reason"))
        for group in invoice.taxes:
            reason = " ".join(
                part for part in (group.exemption_reason_code, group.exemption_reason) if part
            )
            _row(
                table,
                (
                    group.tax_code.value,
                    _number(group.tax_rate),
                    _amount(group.taxable_amount, invoice.currency),
                    _amount(group.tax_amount, invoice.currency),
                    reason,
                ),
            )
    document.ln(6)


def _totals(document: _Document, invoice: Invoice) -> None:
    currency = invoice.currency
    last = "Total credited" if _is_note(invoice) else "Amount due"
    rows = (
        ("Net total", invoice.net_total),
        ("Tax total", invoice.tax_total),
        ("Total", invoice.total),
        (last, invoice.total),
    )
    for index, (label, amount) in enumerate(rows):
        style = "B" if index == len(rows) - 1 else ""
        document.set_x(RIGHT_COLUMN)
        document.set_font(FONT, style=style, size=10)
        document.cell(40, LINE + 1, label)
        document.cell(
            0,
            LINE + 1,
            f"{_amount(amount, currency)} {currency}",
            align="R",
            new_x=XPos.LMARGIN,
            new_y=YPos.NEXT,
        )
    document.ln(6)


def _payment(document: _Document, invoice: Invoice) -> None:
    lines: list[str] = []
    if not _is_note(invoice) and invoice.payment is not None:
        lines += [
            "Payment",
            f"Please transfer {_amount(invoice.total, invoice.currency)} {invoice.currency}"
            + (f" by {invoice.due_on.isoformat()}" if invoice.due_on else "")
            + " to:",
            f"Account name: {invoice.payment.account_name}",
            f"IBAN: {invoice.payment.iban}",
        ]
        if invoice.payment.bic:
            lines.append(f"BIC: {invoice.payment.bic}")
    if invoice.payment_reference:
        lines.append(f"Payment reference: {invoice.payment_reference}")
    if any(group.tax_code is TaxCode.REVERSE_CHARGE for group in invoice.taxes):
        lines += ["", REVERSE_CHARGE_NOTE]
    document.write_lines(lines, x=MARGIN, width=0, bold=1 if lines[:1] == ["Payment"] else 0)


# --- text -------------------------------------------------------------------------------------


def _title(invoice: Invoice) -> str:
    return "Credit note" if _is_note(invoice) else "Invoice"


def _is_note(invoice: Invoice) -> bool:
    return invoice.kind is DocumentKind.CREDIT_NOTE


def _party_lines(party: Party) -> list[str]:
    address = party.address
    city = " ".join(part for part in (address.postal_code, address.city) if part)
    lines = [party.name, address.line1]
    lines += [address.line2] if address.line2 else []
    lines.append(city)
    lines.append(", ".join(part for part in (address.region, address.country) if part))
    lines += [f"VAT ID: {party.tax_id}"] if party.tax_id else []
    return lines


def _terms_lines(invoice: Invoice) -> list[str]:
    currency = invoice.currency
    lines = []
    if invoice.due_on is not None:
        lines.append(f"Due date: {invoice.due_on.isoformat()}")
    if invoice.order_id:
        lines.append(f"Order: {invoice.order_id}")
    if invoice.purchase_order:
        lines.append(f"Purchase order: {invoice.purchase_order}")
    if invoice.terms:
        lines.append(f"Terms: {invoice.terms}")
    if invoice.discount_until is not None and invoice.discount_amount > 0:
        lines.append(
            f"Early payment discount: {_amount(invoice.discount_amount, currency)} {currency}"
            f" if paid by {invoice.discount_until.isoformat()}"
        )
    if _is_note(invoice):
        if invoice.credited_invoice_number:
            lines.append(f"Credits invoice: {invoice.credited_invoice_number}")
        if invoice.reason:
            lines.append(f"Reason: {invoice.reason}")
    return lines


def _row(table: Table, cells: Sequence[str]) -> None:
    row = table.row()
    for text in cells:
        row.cell(latin1(text))


def _amount(amount: Decimal, currency: str) -> str:
    """With thousands separators and the currency's minor-unit digits: 1,234.50."""
    return format(quantize(amount, currency), ",f")


def _price(price: Decimal, currency: str) -> str:
    """A unit price: the minor-unit digits, more only when the price has them."""
    rounded = quantize(price, currency)
    return _amount(price, currency) if rounded == price else format(price.normalize(), ",f")


def _number(value: Decimal) -> str:
    return format(value.normalize(), "f")


def _encodable(text: str) -> bool:
    try:
        text.encode("latin-1")
    except UnicodeEncodeError:
        return False
    return True
