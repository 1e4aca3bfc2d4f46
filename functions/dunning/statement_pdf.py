"""The PDF of a statement of account: what the customer reads, or finds attached to a reminder.

A4, in the house style of the invoice PDF (functions/rendering/house_style.py: Noto Sans with
fallbacks for Arabic and CJK, the same blocks and tables): the seller and the customer, the
period, the lines between the opening and the closing balance, the aging of what is open and
the open invoices, and how to pay. The creation date is the statement's end, so the same
statement always renders to the same bytes.
"""

from __future__ import annotations

from datetime import UTC, datetime, time
from decimal import Decimal

from fpdf.enums import XPos, YPos

from functions.rendering import house_style as house
from functions.rendering.house_style import (
    CONTENT_TYPE,
    FONT,
    LINE,
    MARGIN,
    RIGHT_COLUMN,
    HouseDocument,
)
from shared.domain.statement import BUCKETS, Statement

__all__ = ["CONTENT_TYPE", "TITLE", "render_pdf"]

TITLE = "Statement of account"
HEADING_COLUMN = RIGHT_COLUMN - 20  # the title and the summary start left of the invoice's


def render_pdf(statement: Statement) -> bytes:
    document = HouseDocument(
        title=f"{TITLE} {statement.customer_id} {_period(statement)}",
        created_at=datetime.combine(statement.end, time(), tzinfo=UTC),
        author=statement.seller.name if statement.seller is not None else None,
    )
    document.add_page()
    _heading(document, statement)
    _customer_and_summary(document, statement)
    _lines(document, statement)
    _aging(document, statement)
    _open_invoices(document, statement)
    _payment(document, statement)
    return bytes(document.output())


# --- blocks -----------------------------------------------------------------------------------


def _heading(document: HouseDocument, statement: Statement) -> None:
    facts = [f"Period: {_period(statement)}", f"Statement date: {statement.end.isoformat()}"]
    document.beside(
        house.party_lines(statement.seller) if statement.seller else [],
        bold=1,
        right=lambda: document.write_title(TITLE, facts, x=HEADING_COLUMN, size=18),
    )


def _customer_and_summary(document: HouseDocument, statement: Statement) -> None:
    summary = (
        ("Customer no.", statement.customer_id),
        ("Opening balance", _money(statement.opening_balance, statement)),
        ("Debits", _money(statement.total_debits, statement)),
        ("Credits", _money(statement.total_credits, statement)),
        ("Closing balance", _money(statement.closing_balance, statement)),
    )
    document.beside(
        ["Customer", statement.customer_name, *statement.customer_address],
        bold=2,
        right=lambda: document.write_figures(summary, x=HEADING_COLUMN, label_width=35),
    )


def _lines(document: HouseDocument, statement: Statement) -> None:
    currency = statement.currency
    _section(document, "Account activity")
    with document.grid(
        col_widths=(20, 34, 58, 22, 22, 24),
        text_align=("LEFT", "LEFT", "LEFT", "RIGHT", "RIGHT", "RIGHT"),
    ) as table:
        house.row(table, ("Date", "Reference", "Description", "Debit", "Credit", "Balance"))
        opening = house.amount(statement.opening_balance, currency)
        house.row(table, (statement.start.isoformat(), "", "Opening balance", "", "", opening))
        for line in statement.lines:
            house.row(
                table,
                (
                    line.posted_on.isoformat(),
                    line.reference,
                    line.description,
                    house.amount(line.debit, currency) if line.debit else "",
                    house.amount(line.credit, currency) if line.credit else "",
                    house.amount(line.balance, currency),
                ),
            )
        closing = house.amount(statement.closing_balance, currency)
        house.row(table, (statement.end.isoformat(), "", "Closing balance", "", "", closing))


def _aging(document: HouseDocument, statement: Statement) -> None:
    currency = statement.currency
    _section(document, f"Aging of open invoices as of {statement.aging.as_of.isoformat()}")
    with document.grid(col_widths=(30, 30, 30, 30, 30, 30), text_align="RIGHT") as table:
        headings = [name if name == "current" else f"{name} days" for name in BUCKETS]
        house.row(table, (*(heading.capitalize() for heading in headings), "Total"))
        amounts = [house.amount(statement.aging.buckets[name], currency) for name in BUCKETS]
        house.row(table, (*amounts, house.amount(statement.aging.total, currency)))


def _open_invoices(document: HouseDocument, statement: Statement) -> None:
    if not statement.aging.invoices:
        return
    _section(document, "Open invoices")
    with document.grid(
        col_widths=(50, 30, 30, 30, 40),
        text_align=("LEFT", "LEFT", "LEFT", "RIGHT", "RIGHT"),
    ) as table:
        house.row(table, ("Invoice", "Issued", "Due", "Days overdue", "Amount due"))
        for aged in statement.aging.invoices:
            invoice = aged.invoice
            house.row(
                table,
                (
                    invoice.number,
                    invoice.issued_on.isoformat(),
                    invoice.due_on.isoformat(),
                    str(max(aged.days_overdue, 0)),
                    _money(invoice.amount_due, statement),
                ),
            )


def _payment(document: HouseDocument, statement: Statement) -> None:
    if statement.closing_balance <= 0 or statement.payment is None:
        return
    request = (
        f"Please transfer the closing balance of {_money(statement.closing_balance, statement)},"
        " quoting the invoice numbers, to:"
    )
    document.write_lines(house.payment_lines(request, statement.payment), x=MARGIN, width=0, bold=1)


def _section(document: HouseDocument, title: str) -> None:
    """A section's title (the statement's tables each have one; an invoice's do not)."""
    document.set_font(FONT, style="B", size=11)
    document.cell(0, LINE + 2, house.printable(title), new_x=XPos.LMARGIN, new_y=YPos.NEXT)


# --- text -------------------------------------------------------------------------------------


def _period(statement: Statement) -> str:
    return f"{statement.start.isoformat()} to {statement.end.isoformat()}"


def _money(amount: Decimal, statement: Statement) -> str:
    return house.money(amount, statement.currency)
