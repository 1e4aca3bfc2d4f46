"""Where an invoice's documents live in the documents bucket, and what they are.

One PDF and one UBL XML per invoice or credit note, at a key derived from the document alone:
``invoices/<customer id>/<number>.pdf`` and ``.xml``. The delivery worker writes there (a retry
rewrites the same content, a new version of the versioned bucket) and the API signs links to
the same keys, so neither needs to record where the other put a file.
"""

from __future__ import annotations

from enum import StrEnum

from shared.domain.invoice import Invoice

PREFIX = "invoices"


class DocumentFormat(StrEnum):
    PDF = "pdf"
    UBL = "ubl"


EXTENSIONS = {DocumentFormat.PDF: "pdf", DocumentFormat.UBL: "xml"}
CONTENT_TYPES = {DocumentFormat.PDF: "application/pdf", DocumentFormat.UBL: "application/xml"}


def document_key(invoice: Invoice, fmt: DocumentFormat | str) -> str:
    """The object key of ``invoice``'s document in ``fmt`` ("pdf" or "ubl")."""
    return f"{PREFIX}/{invoice.customer_id}/{file_name(invoice, fmt)}"


def file_name(invoice: Invoice, fmt: DocumentFormat | str) -> str:
    """What the buyer sees the file as: ``INV-2026-000123.pdf``."""
    return f"{invoice.number}.{EXTENSIONS[DocumentFormat(fmt)]}"


def content_type(fmt: DocumentFormat | str) -> str:
    return CONTENT_TYPES[DocumentFormat(fmt)]
