"""Standard requests answer themselves: a copy of an invoice (its stored PDF) or a statement of
account (the last 90 days, as a PDF) goes to the contact at once, and the case closes.

The e-mail goes once per case (the claim protocol, keyed on the case), then the case
closes (``CaseResolved``, outcome ``answered``). An invoice whose PDF is not stored yet (its
delivery is still under way) leaves the case open for the clerk. The statement's PDF is rendered
on the request's path: the one place the API renders a document, for one customer's statement.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from functions.cases.common import write_case
from shared import clock
from shared.adapters import mail
from shared.domain.cases import SELF_ANSWERED, CaseStatus, Outcome, RequestType
from shared.observability import logger
from shared.store import notifications as markers
from shared.store.table import Item

STATEMENT_DAYS = 90
MAX_PDF_BYTES = 20 * 1024 * 1024


def answer_itself(case: Item) -> Item:
    """The case, closed when its request was answered now; as it was otherwise."""
    from functions.cases.survey import invite

    kind = case.get("request_type")
    if kind not in {request.value for request in SELF_ANSWERED}:
        return case
    if case["status"] == CaseStatus.CLOSED.value:  # a retry: answered by the first attempt
        invite(case)
        return case
    if case["status"] != CaseStatus.OPEN.value:
        return case
    attachment = _document(case, RequestType(kind))
    if attachment is None:
        return case
    try:
        sender = mail.configured_sender()
        markers.send_once(
            f"{case['case_id']}#answer",
            case["contact"],
            detail_type="CaseAnswer",
            send=lambda: mail.send_raw(
                sender=sender,
                recipient=case["contact"],
                subject=f"{case['number']}: {attachment.filename}",
                text=f"As requested in {case['number']}, attached: {attachment.filename}.",
                html=f"<p>As requested in {case['number']}, attached.</p>",
                attachments=[attachment],
            ),
        )
    except Exception:  # the case stays open: a clerk answers it
        logger.exception("request not answered by itself", extra={"case_id": case["case_id"]})
        return case
    now = clock.iso(clock.now())
    resolution: dict[str, Any] = {"outcome": Outcome.ANSWERED.value, "note": "sent", "by": "system"}
    closed = write_case(
        case,
        {
            "status": CaseStatus.CLOSED.value,
            "resolution": resolution,
            "resolved_at": now,
            "first_response_at": now,
        },
        [],
        "CaseResolved",
    )
    invite(closed)
    return closed


def _document(case: Item, kind: RequestType) -> mail.Attachment | None:
    if kind is RequestType.INVOICE_COPY:
        return _invoice_pdf(case.get("invoice_id"))
    from functions.dunning.statement import file_name, statement_for
    from functions.dunning.statement_pdf import render_pdf

    today = clock.now().date()
    statement = statement_for(case["customer_id"], today - timedelta(days=STATEMENT_DAYS), today)
    return mail.Attachment(
        filename=file_name(statement), content=render_pdf(statement), content_type="application/pdf"
    )


def _invoice_pdf(invoice_id: str | None) -> mail.Attachment | None:
    from functions.invoicing import documents
    from functions.invoicing.documents import DocumentFormat
    from shared.adapters import documents as bucket
    from shared.store import invoices

    invoice = invoices.get(invoice_id) if invoice_id else None
    if invoice is None:
        return None
    try:
        stored = bucket.read(
            documents.document_key(invoice, DocumentFormat.PDF), limit=MAX_PDF_BYTES
        )
    except bucket.NoSuchObjectError:
        return None
    return mail.Attachment(
        filename=documents.file_name(invoice, DocumentFormat.PDF),
        content=stored.content,
        content_type="application/pdf",
    )
