"""A short-lived download link to an invoice's PDF or UBL document.

The documents are rendered by a worker after issue, so for a moment after an invoice appears its
documents may not be there yet: that answers 409 with Retry-After, never a link that 404s.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from pydantic import ConfigDict

from functions.invoicing.documents import DocumentFormat, document_key, file_name
from functions.invoicing.get_invoice import readable_invoice
from shared import clock, errors
from shared.adapters import documents
from shared.domain.access import Principal
from shared.model import Model

LINK_SECONDS = 300


class DocumentQuery(Model):
    """The query string of GET /invoices/{id}/document."""

    model_config = ConfigDict(extra="forbid")

    format: DocumentFormat = DocumentFormat.PDF


def document_link(invoice_id: str, query: DocumentQuery, principal: Principal) -> dict[str, Any]:
    invoice = readable_invoice(invoice_id, principal)
    if invoice is None:
        raise errors.Conflict(
            "no-document", f"invoice {invoice_id} was imported: this system holds no document"
        )
    key = document_key(invoice, query.format)
    if not documents.exists(key):
        raise errors.Conflict(
            "document-not-ready",
            f"the {query.format.value} of {invoice.number} is still being rendered",
            retry_after=2,
        )
    return {
        "invoice_id": invoice.invoice_id,
        "number": invoice.number,
        "format": query.format.value,
        "url": documents.share(
            key, seconds=LINK_SECONDS, filename=file_name(invoice, query.format)
        ),
        "expires_at": clock.iso(clock.now() + timedelta(seconds=LINK_SECONDS)),
    }
