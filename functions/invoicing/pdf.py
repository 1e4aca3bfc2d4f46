"""The PDF of an invoice or credit note: what the buyer reads, prints and files.

An A4 document with the seller and the buyer, the document's number and dates, the lines, the
tax breakdown, the totals and how to pay. Long documents run over several pages; the lines
table repeats its headings and every page says which page of how many it is.

Laid out in the house style (functions/rendering/house_style.py: Noto Sans with fallbacks for
Arabic and CJK, the blocks and tables the statement of account shares); what is here is what an
invoice says.
The creation date is the issue time, so the same document always renders to the same bytes.
"""

from __future__ import annotations

from decimal import Decimal

from functions.rendering import house_style as house
from functions.rendering import qr_code
from functions.rendering.house_style import CONTENT_TYPE, LINE, MARGIN, RIGHT_COLUMN, HouseDocument
from shared.domain import epc_qr
from shared.domain.invoice import DocumentKind, Invoice, Party, TaxCode
from shared.domain.money import quantize

__all__ = ["CONTENT_TYPE", "render_pdf"]

QR_SIZE = 30.0  # mm: the EPC QR code, comfortably above the 2 cm a phone needs
QR_X = 210 - MARGIN - QR_SIZE  # flush with the right margin of an A4 page
QR_CAPTION = "Scan to pay (EPC QR)"
REVERSE_CHARGE_NOTE = (
    "Reverse charge: the recipient is liable for the VAT "
    "(Article 196 of Council Directive 2006/112/EC)."
)
INTRA_COMMUNITY_NOTE = (
    "Intra-community supply of goods, exempt from VAT "
    "(Article 138 of Council Directive 2006/112/EC)."
)
TAX_NOTES = {
    TaxCode.REVERSE_CHARGE: REVERSE_CHARGE_NOTE,
    TaxCode.INTRA_COMMUNITY: INTRA_COMMUNITY_NOTE,
}


def render_pdf(invoice: Invoice) -> bytes:
    document = HouseDocument(
        title=f"{_title(invoice)} {invoice.number}",
        created_at=invoice.issued_at,
        author=invoice.seller.name,
    )
    document.add_page()
    _heading(document, invoice)
    _parties_and_terms(document, invoice)
    _lines(document, invoice)
    _taxes(document, invoice)
    _totals(document, invoice)
    _payment(document, invoice)
    return bytes(document.output())


# --- blocks -----------------------------------------------------------------------------------


def _heading(document: HouseDocument, invoice: Invoice) -> None:
    facts = [f"No. {invoice.number}", f"Issue date: {invoice.issued_on.isoformat()}"]
    if invoice.delivered_on is not None:
        facts.append(f"Delivery date: {invoice.delivered_on.isoformat()}")
    document.beside(
        [*house.party_lines(invoice.seller), *_seller_lines(invoice.seller)],
        bold=1,
        right=lambda: document.write_title(_title(invoice), facts, x=RIGHT_COLUMN, size=20),
    )


def _parties_and_terms(document: HouseDocument, invoice: Invoice) -> None:
    document.beside(
        ["Bill to", *house.party_lines(invoice.buyer)],
        bold=2,
        right=lambda: document.write_lines(_terms_lines(invoice), x=RIGHT_COLUMN, width=0),
    )


def _lines(document: HouseDocument, invoice: Invoice) -> None:
    currency = invoice.currency
    with document.grid(
        col_widths=(10, 62, 16, 14, 26, 16, 36),
        text_align=("RIGHT", "LEFT", "RIGHT", "CENTER", "RIGHT", "RIGHT", "RIGHT"),
    ) as table:
        house.row(table, ("No", "Item", "Qty", "Unit", "Unit price", "Tax %", "Net"))
        for line in invoice.lines:
            house.row(
                table,
                (
                    str(line.line_no),
                    f"{line.name} ({line.sku})" if line.sku else line.name,
                    _number(line.quantity),
                    line.unit,
                    _price(line.unit_price, currency),
                    f"{_number(line.tax_rate)} ({line.tax_code.value})",
                    house.amount(line.net_amount, currency),
                ),
            )


def _taxes(document: HouseDocument, invoice: Invoice) -> None:
    with document.grid(
        col_widths=(16, 16, 30, 30, 88),
        text_align=("CENTER", "RIGHT", "RIGHT", "RIGHT", "LEFT"),
    ) as table:
        house.row(table, ("Tax", "Rate %", "Taxable", "Tax", "Exemption reason"))
        for group in invoice.taxes:
            reason = " ".join(
                part for part in (group.exemption_reason_code, group.exemption_reason) if part
            )
            house.row(
                table,
                (
                    group.tax_code.value,
                    _number(group.tax_rate),
                    house.amount(group.taxable_amount, invoice.currency),
                    house.amount(group.tax_amount, invoice.currency),
                    reason,
                ),
            )


def _totals(document: HouseDocument, invoice: Invoice) -> None:
    currency = invoice.currency
    last = "Total credited" if _is_note(invoice) else "Amount due"
    rows = (
        ("Net total", invoice.net_total),
        ("Tax total", invoice.tax_total),
        ("Total", invoice.total),
        (last, invoice.total),
    )
    document.write_figures(
        [(label, house.money(amount, currency)) for label, amount in rows],
        x=RIGHT_COLUMN,
        label_width=40,
    )
    document.ln(6)


def _payment(document: HouseDocument, invoice: Invoice) -> None:
    payload = epc_qr.for_invoice(invoice)
    if payload is None:
        _payment_lines(document, invoice, width=0)
        return
    if document.get_y() + QR_SIZE + 2 * LINE > document.page_break_trigger:
        document.add_page()
    top = document.get_y()
    below_lines = _payment_lines(document, invoice, width=QR_X - MARGIN - 5)
    document.draw_qr(qr_code.matrix(payload), x=QR_X, y=top, size=QR_SIZE)
    document.set_y(top + QR_SIZE + 1)
    document.set_font(house.FONT, size=7)
    document.set_x(QR_X)
    document.cell(QR_SIZE, LINE - 1, QR_CAPTION, align="C")
    document.set_y(max(below_lines, top + QR_SIZE + LINE))


def _payment_lines(document: HouseDocument, invoice: Invoice, *, width: float) -> float:
    lines: list[str] = []
    if not _is_note(invoice) and invoice.payment is not None:
        request = (
            f"Please transfer {house.money(invoice.total, invoice.currency)}"
            + (f" by {invoice.due_on.isoformat()}" if invoice.due_on else "")
            + " to:"
        )
        lines += house.payment_lines(request, invoice.payment)
    if invoice.payment_reference:
        lines.append(f"Payment reference: {invoice.payment_reference}")
    for code in dict.fromkeys(group.tax_code for group in invoice.taxes):
        if code in TAX_NOTES:
            lines += ["", TAX_NOTES[code]]
    bold = 1 if lines[:1] == ["Payment"] else 0
    return document.write_lines(lines, x=MARGIN, width=width, bold=bold)


# --- text -------------------------------------------------------------------------------------


def _title(invoice: Invoice) -> str:
    return "Credit note" if _is_note(invoice) else "Invoice"


def _is_note(invoice: Invoice) -> bool:
    return invoice.kind is DocumentKind.CREDIT_NOTE


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
            f"Early payment discount: {house.money(invoice.discount_amount, currency)}"
            f" if paid by {invoice.discount_until.isoformat()}"
        )
    if _is_note(invoice):
        if invoice.credited_invoice_number:
            lines.append(f"Credits invoice: {invoice.credited_invoice_number}")
        if invoice.credited_invoice_issued_on is not None:
            lines.append(f"Invoice date: {invoice.credited_invoice_issued_on.isoformat()}")
        if invoice.reason:
            lines.append(f"Reason: {invoice.reason}")
    return lines


def _seller_lines(seller: Party) -> list[str]:
    """The seller's commercial register number (``party_id``) and how to reach it: its contact
    (name, phone, e-mail, BG-6 of EN 16931) and its billing e-mail."""
    lines = [f"Register no.: {seller.party_id}"] if seller.party_id else []
    person = seller.contact
    contact = [
        *([person.name, person.phone, person.email] if person else []),
        *([seller.email] if seller.email else []),
    ]
    if contact:
        lines.append(f"Contact: {', '.join(dict.fromkeys(contact))}")
    return lines


def _price(price: Decimal, currency: str) -> str:
    """A unit price: the minor-unit digits, more only when the price has them."""
    rounded = quantize(price, currency)
    return house.amount(price, currency) if rounded == price else format(price.normalize(), ",f")


def _number(value: Decimal) -> str:
    return format(value.normalize(), "f")
