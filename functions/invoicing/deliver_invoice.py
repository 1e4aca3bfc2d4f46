"""Deliver an issued invoice or credit note (on InvoiceIssued, CreditNoteIssued).

1. render the PDF and the UBL XML of the document; the PDF is a Factur-X hybrid (``hybrid_pdf``,
   the CII XML inside) when the buyer's account asks for one (``pdf_format``), at the same key;
2. store both in the documents bucket at the document's stable keys (``documents.py``): a retry
   rewrites the same bytes, a new version of the versioned bucket, which nothing reads apart;
3. e-mail them to the buyer, exactly once per document, with a link to the customer portal
   for the buyer's address (signed when the e-mail is made, the portal's default lifetime;
   left out when this deployment has no public API URL or no link secret). The link is made
   before the e-mail is claimed: a failed read fails the message, which SQS retries, with
   nothing claimed, so no e-mail goes out without its link or stays claimed and unsent.

Step 3 follows the customer notifier's protocol (``functions/notifications/notify_customer.py``)
with the same markers (``shared.store.notifications``): claim the e-mail with a conditional put
before sending, mark it sent with SES's MessageId after, release the claim if the send fails
(SQS retries the message and the retry claims afresh). A document has exactly one issuing
event, so "once per event" is "once per document"; the claim is keyed by that event. The one
window left is the notifier's: a crash after SES accepted the message and before it was marked
sent may, after the claim's lease, send it a second time.

The document is read from the table; the event carries the same document (issued documents
never change), which serves when the read finds nothing.
"""

from __future__ import annotations

from enum import StrEnum

from functions.invoicing import documents, invoice_email
from functions.invoicing.documents import DocumentFormat
from functions.invoicing.pdf import render_pdf
from functions.invoicing.ubl import render_ubl
from shared.adapters import documents as bucket
from shared.adapters import mail
from shared.adapters.bus_events import BusEvent
from shared.config import seller as configured_seller
from shared.domain import invoice as invoice_domain
from shared.domain.invoice import Invoice
from shared.observability import logger, metrics
from shared.store import customers, invoices
from shared.store import notifications as markers

DELIVERED_EVENTS = frozenset({"InvoiceIssued", "CreditNoteIssued"})
FACTUR_X = "factur-x"


class Outcome(StrEnum):
    DELIVERED = "delivered"  # stored and e-mailed
    ALREADY_EMAILED = "already_emailed"  # stored again; the e-mail went (or is going) out before
    STORED = "stored"  # stored; the buyer has no e-mail address
    SKIPPED = "skipped"  # not an issuing event


def deliver_invoice(event: BusEvent) -> Outcome:
    metadata = event.detail.metadata
    context = {
        "event_id": metadata.event_id,
        "invoice_id": metadata.aggregate_id,
        "detail_type": event.detail_type,
    }
    if event.detail_type not in DELIVERED_EVENTS:
        logger.info("not an issuing event; nothing to deliver", extra=context)
        return Outcome.SKIPPED
    issued = invoices.get(metadata.aggregate_id) or invoice_domain.from_wire(event.detail.data)
    invoice = invoice_domain.with_seller_details(issued, configured_seller())
    context["number"] = invoice.number

    pdf, xml = store_documents(invoice)

    recipient = invoice.buyer.email
    if not recipient:
        logger.warning("the buyer has no e-mail address; documents stored only", extra=context)
        return Outcome.STORED
    sender = mail.configured_sender()
    email = invoice_email.render(invoice, _portal_link(invoice, recipient))
    message_id = markers.send_once(
        metadata.event_id,
        recipient,
        detail_type=event.detail_type,
        send=lambda: mail.send_raw(
            sender=sender,
            recipient=recipient,
            subject=email.subject,
            text=email.text,
            html=email.html,
            attachments=[
                _attachment(invoice, DocumentFormat.PDF, pdf),
                _attachment(invoice, DocumentFormat.UBL, xml),
            ],
        ),
    )
    if message_id is None:
        logger.info("documents stored; e-mail already sent or being sent", extra=context)
        return Outcome.ALREADY_EMAILED
    logger.info("documents delivered", extra={**context, "ses_message_id": message_id})
    metrics.add_metric(name="InvoiceDocumentsEmailed", unit="Count", value=1)
    return Outcome.DELIVERED


def _portal_link(invoice: Invoice, recipient: str) -> str | None:
    """A portal link for the recipient, signed now, when the portal is configured here."""
    from functions.portal.links import email_link

    return email_link(invoice.customer_id, recipient)


def store_documents(invoice: Invoice) -> tuple[bytes, bytes]:
    """Render the PDF and the UBL XML and write both at their keys; returns (pdf, xml)."""
    rendered = {DocumentFormat.PDF: _pdf(invoice), DocumentFormat.UBL: render_ubl(invoice)}
    for fmt, content in rendered.items():
        bucket.write(
            documents.document_key(invoice, fmt),
            content,
            content_type=documents.content_type(fmt),
            metadata={"invoice-id": invoice.invoice_id, "kind": invoice.kind.value},
        )
    return rendered[DocumentFormat.PDF], rendered[DocumentFormat.UBL]


def _pdf(invoice: Invoice) -> bytes:
    """The plain PDF, or the Factur-X hybrid for a customer that asks for it (the setting as it
    is when the document is delivered)."""
    pdf = render_pdf(invoice)
    customer = customers.get(invoice.customer_id)
    if customer is None or customer.pdf_format != FACTUR_X:
        return pdf
    from functions.invoicing.hybrid_pdf import render_hybrid

    return render_hybrid(invoice, pdf)


def _attachment(invoice: Invoice, fmt: DocumentFormat, content: bytes) -> mail.Attachment:
    return mail.Attachment(
        filename=documents.file_name(invoice, fmt),
        content=content,
        content_type=documents.content_type(fmt),
    )
