"""The house style of the PDFs we send: the invoice (or credit note) and the statement of account.

A4 portrait in Noto Sans, with fallbacks for Arabic and CJK (functions/rendering/pdf_fonts.py),
embedded as subsets: a buyer, a city or an item is written in its own script, and stays
extractable text.
Text is scrubbed of controls and non-characters before it is drawn. Every page is footed with the
document's running title and which page of how many it is; the creation date is fixed by the
caller, so the same document always renders to the same bytes.

What a document says is its renderer's (functions/invoicing/pdf.py, functions/dunning/
statement_pdf.py); how it is laid out (the blocks, the tables, the figures, money) is here, so
the two read as one house. Only those renderers import this module: fpdf stays on their paths.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from decimal import Decimal
from typing import Any

from fpdf import FPDF, FontFace
from fpdf.enums import XPos, YPos
from fpdf.table import Table

from functions.rendering import pdf_fonts
from shared.domain.invoice import Party, PaymentInstructions
from shared.domain.money import quantize
from shared.domain.text import scrub

CONTENT_TYPE = "application/pdf"

FONT = pdf_fonts.FONT
MARGIN = 15.0
LINE = 5.0
RIGHT_COLUMN = 120.0
GREY = (110, 110, 110)
HEADINGS = FontFace(emphasis="BOLD", fill_color=(230, 230, 230))


class HouseDocument(FPDF):
    """A4 portrait, with ``title`` and the page count at the foot of each page.

    ``title`` also names the document in its metadata, ``author`` (when given) its author;
    ``created_at`` is its creation date, which the caller fixes so the bytes are reproducible.
    """

    def __init__(self, *, title: str, created_at: datetime, author: str | None = None) -> None:
        super().__init__(orientation="portrait", unit="mm", format="A4")
        self.running_title = title
        self.set_margins(MARGIN, MARGIN, MARGIN)
        self.set_auto_page_break(auto=True, margin=MARGIN + 5)
        self.set_creation_date(created_at)
        pdf_fonts.add_house_fonts(self)
        self.set_title(printable(title))
        if author is not None:
            self.set_author(printable(author))

    def get_fallback_font(self, char: str, style: str = "") -> str | None:
        return pdf_fonts.fallback_font(self, char, style)

    def cell(self, *args: Any, **kwargs: Any) -> Any:
        pdf_fonts.prepare(self, _text(args, kwargs))
        return super().cell(*args, **kwargs)

    def multi_cell(self, *args: Any, **kwargs: Any) -> Any:
        """Also how a table draws its cells."""
        pdf_fonts.prepare(self, _text(args, kwargs))
        return super().multi_cell(*args, **kwargs)

    def footer(self) -> None:
        self.set_y(-MARGIN)
        self.set_font(FONT, size=8)
        self.set_text_color(*GREY)
        text = f"{self.running_title} - page {self.page_no()}/{{nb}}"
        self.cell(0, LINE, printable(text), align="R")
        self.set_text_color(0, 0, 0)

    def write_lines(self, lines: Sequence[str], *, x: float, width: float, bold: int = 0) -> float:
        """Write ``lines`` at ``x``, the first ``bold`` of them in bold; returns the y below."""
        for index, text in enumerate(lines):
            self.set_x(x)
            self.set_font(FONT, style="B" if index < bold else "", size=10)
            self.multi_cell(
                width, LINE, printable(text), align="L", new_x=XPos.LMARGIN, new_y=YPos.NEXT
            )
        return self.get_y()

    def beside(self, left: Sequence[str], *, bold: int, right: Callable[[], object]) -> None:
        """``left`` in the left column (its first ``bold`` lines in bold), what ``right`` writes
        from the same height on the right; then a gap below the longer of the two."""
        top = self.get_y()
        below_left = self.write_lines(left, x=MARGIN, width=RIGHT_COLUMN - MARGIN - 5, bold=bold)
        self.set_y(top)
        right()
        self.set_y(max(below_left, self.get_y()) + 8)

    def write_title(self, title: str, facts: Sequence[str], *, x: float, size: int) -> None:
        """The document's title in large bold at ``x``, its facts (number, dates) below it."""
        self.set_x(x)
        self.set_font(FONT, style="B", size=size)
        self.cell(0, 10, printable(title), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        self.write_lines(facts, x=x, width=0, bold=1)

    def write_figures(
        self, rows: Sequence[tuple[str, str]], *, x: float, label_width: float
    ) -> None:
        """Label and figure rows from ``x``, figures flush right, the last row (the total) bold."""
        for index, (label, figure) in enumerate(rows):
            self.set_x(x)
            self.set_font(FONT, style="B" if index == len(rows) - 1 else "", size=10)
            self.cell(label_width, LINE + 1, printable(label))
            self.cell(
                0, LINE + 1, printable(figure), align="R", new_x=XPos.LMARGIN, new_y=YPos.NEXT
            )

    def draw_qr(self, matrix: Sequence[Sequence[bool]], *, x: float, y: float, size: float) -> None:
        """A QR code's modules (True: dark) as black squares, ``size`` mm wide, top left at x, y.

        Vectors, not an image: sharp at any zoom, a few hundred bytes, the same bytes each time.
        Each row's runs of dark modules are one rectangle."""
        module = size / len(matrix)
        self.set_fill_color(0, 0, 0)
        for row_index, modules in enumerate(matrix):
            column = 0
            while column < len(modules):
                if not modules[column]:
                    column += 1
                    continue
                start = column
                while column < len(modules) and modules[column]:
                    column += 1
                top = y + row_index * module
                self.rect(x + start * module, top, (column - start) * module, module, style="F")

    @contextmanager
    def grid(
        self, col_widths: tuple[float, ...], text_align: str | tuple[str, ...]
    ) -> Iterator[Table]:
        """A table in the house style (grey bold headings, 9 pt), with a gap below it.

        Its first row is the headings, repeated at the top of every page the table runs onto.
        """
        self.set_font(FONT, size=9)
        with self.table(
            col_widths=col_widths,
            text_align=text_align,
            headings_style=HEADINGS,
            line_height=LINE,
        ) as table:
            yield table
        self.ln(6)


def _text(args: tuple[Any, ...], kwargs: dict[str, Any]) -> str:
    """The ``text`` argument of a cell or multi_cell call (the third positional one)."""
    return str(kwargs.get("text", args[2] if len(args) > 2 else ""))


def row(table: Table, cells: Sequence[str]) -> None:
    """One row of ``table``, each cell's text scrubbed."""
    cells_row = table.row()
    for text in cells:
        cells_row.cell(printable(text))


# --- text -------------------------------------------------------------------------------------


def party_lines(party: Party) -> list[str]:
    """A seller or buyer as an address block: name, address, country, VAT ID."""
    address = party.address
    city = " ".join(part for part in (address.postal_code, address.city) if part)
    lines = [party.name, address.line1]
    lines += [address.line2] if address.line2 else []
    lines.append(city)
    lines.append(", ".join(part for part in (address.region, address.country) if part))
    lines += [f"VAT ID: {party.tax_id}"] if party.tax_id else []
    return lines


def payment_lines(request: str, payment: PaymentInstructions) -> list[str]:
    """How to pay: the heading "Payment", ``request`` (what to transfer), the bank account."""
    lines = [
        "Payment",
        request,
        f"Account name: {payment.account_name}",
        f"IBAN: {payment.iban}",
    ]
    if payment.bic:
        lines.append(f"BIC: {payment.bic}")
    return lines


def amount(value: Decimal, currency: str) -> str:
    """With thousands separators and the currency's minor-unit digits: 1,234.50."""
    return format(quantize(value, currency), ",f")


def money(value: Decimal, currency: str) -> str:
    """An amount with its currency: 1,234.50 EUR."""
    return f"{amount(value, currency)} {currency}"


def printable(text: str) -> str:
    """``text`` as drawn: controls and non-characters (whatever is stored) replaced."""
    return scrub(text)
