"""The e-mail that brings the buyer an invoice or credit note: subject, plain text and HTML.

The documents themselves travel as attachments (the PDF to read, the UBL XML for accounts
payable software); the e-mail says what they are, what is owed by when, and how to pay.
Every value from the document is escaped in the HTML part, and the subject is one line.
"""

from __future__ import annotations

import html
from decimal import Decimal

from shared.domain.invoice import DocumentKind, Invoice
from shared.domain.money import quantize
from shared.domain.notifications import Email, portal_invitation, subject_line


def render(invoice: Invoice, portal_url: str | None = None) -> Email:
    """The e-mail; with ``portal_url`` (a signed link to the customer's portal), a paragraph
    inviting the contact to see and pay the account online."""
    is_note = invoice.kind is DocumentKind.CREDIT_NOTE
    title = "Credit note" if is_note else "Invoice"
    paragraphs = _credit_note(invoice) if is_note else _invoice(invoice)
    greeting = f"Hello {_one_line(invoice.buyer.name) or 'customer'},"
    closing = ["Kind regards,", _one_line(invoice.seller.name)]
    invitation = [portal_invitation(portal_url)] if portal_url else []
    portal = [text for text, _ in invitation]
    text = "\n\n".join([greeting, *paragraphs, *portal, "\n".join(closing)]) + "\n"
    body = "".join(f"<p>{html.escape(part)}</p>" for part in [greeting, *paragraphs])
    body += "".join(markup for _, markup in invitation)
    body += "<p>" + "<br>".join(html.escape(part) for part in closing) + "</p>"
    document = (
        '<!DOCTYPE html><html><head><meta charset="utf-8"></head><body>' + body + "</body></html>"
    )
    subject = f"{title} {invoice.number} from {invoice.seller.name}"
    return Email(subject=subject_line(subject), text=text, html=document)


def _invoice(invoice: Invoice) -> list[str]:
    order = invoice.purchase_order or invoice.order_id
    paragraphs = [
        f"Please find attached our invoice {invoice.number} of {invoice.issued_on.isoformat()}"
        + (f" for your order {order}" if order else "")
        + ", as a PDF and as an e-invoice (UBL XML).",
        f"Amount due: {_money(invoice.total, invoice.currency)}"
        + (f", payable by {invoice.due_on.isoformat()}." if invoice.due_on else "."),
    ]
    if invoice.discount_until is not None and invoice.discount_amount > 0:
        paragraphs.append(
            f"If you pay by {invoice.discount_until.isoformat()}, you may deduct an early "
            f"payment discount of {_money(invoice.discount_amount, invoice.currency)}."
        )
    if invoice.payment is not None:
        bic = f", BIC {invoice.payment.bic}" if invoice.payment.bic else ""
        paragraphs.append(
            f"Please transfer the amount to {invoice.payment.account_name}, "
            f"IBAN {invoice.payment.iban}{bic}, quoting the payment reference "
            f"{invoice.payment_reference}."
        )
    return paragraphs


def _credit_note(invoice: Invoice) -> list[str]:
    credited = (
        f", crediting invoice {invoice.credited_invoice_number}"
        if invoice.credited_invoice_number
        else ""
    )
    paragraphs = [
        f"Please find attached our credit note {invoice.number} of "
        f"{invoice.issued_on.isoformat()}{credited}, as a PDF and as an e-invoice (UBL XML).",
        f"Amount credited: {_money(invoice.total, invoice.currency)}.",
    ]
    if invoice.reason:
        paragraphs.append(f"Reason: {_one_line(invoice.reason).rstrip('.')}.")
    return paragraphs


def _money(amount: Decimal, currency: str) -> str:
    return f"{quantize(amount, currency):,f} {currency}"


def _one_line(text: str) -> str:
    return " ".join(text.split())
