"""The EPC QR code's payload (EPC069-12, version 002): a SEPA credit transfer a banking app scans.

Twelve fields at most, one per line (LF), in UTF-8 (character set 1):

    BCD / 002 / 1 / SCT / BIC (optional) / beneficiary name (<= 70) / IBAN / EUR amount
    / purpose (empty) / structured reference (an RF creditor reference, <= 35)
    / unstructured remittance (<= 140, only without a structured one)

Trailing empty fields are left out; the whole payload is at most 331 bytes. Only euro amounts
from 0.01 to 999999999.99 can be asked for, so other documents get no code.
"""

from __future__ import annotations

from decimal import Decimal

from shared.domain.invoice import DocumentKind, Invoice

SERVICE_TAG = "BCD"
VERSION = "002"
CHARACTER_SET = "1"  # UTF-8
IDENTIFICATION = "SCT"  # SEPA credit transfer
MAX_NAME = 70
MAX_REFERENCE = 35
MAX_REMITTANCE = 140
MAX_BYTES = 331
MIN_AMOUNT = Decimal("0.01")
MAX_AMOUNT = Decimal("999999999.99")


def payload(
    *,
    name: str,
    iban: str,
    amount: Decimal,
    reference: str,
    bic: str | None = None,
) -> str:
    """The payload asking for ``amount`` euros to ``iban``, quoting ``reference``.

    An RF creditor reference goes in the structured field, any other reference in the
    unstructured one; the name is cut to its 70 characters."""
    if not MIN_AMOUNT <= amount <= MAX_AMOUNT:
        raise ValueError(f"an EPC QR code asks for 0.01 to 999999999.99 EUR, not {amount}")
    reference = reference.strip()
    structured = reference.upper().startswith("RF") and len(reference) <= MAX_REFERENCE
    fields = [
        SERVICE_TAG,
        VERSION,
        CHARACTER_SET,
        IDENTIFICATION,
        bic or "",
        " ".join(name.split())[:MAX_NAME],
        iban.replace(" ", "").upper(),
        f"EUR{amount.quantize(Decimal('0.01'))}",
        "",  # purpose
        reference if structured else "",
        "" if structured else reference[:MAX_REMITTANCE],
    ]
    while fields[-1] == "":
        fields.pop()
    text = "\n".join(fields)
    if len(text.encode()) > MAX_BYTES:
        raise ValueError(f"an EPC QR payload holds {MAX_BYTES} bytes at most")
    return text


def for_invoice(invoice: Invoice) -> str | None:
    """The payload paying ``invoice`` in full, or None: credit notes, other currencies than the
    euro, documents without the seller's bank account or with nothing to pay get no code."""
    payment = invoice.payment
    if (
        invoice.kind is not DocumentKind.INVOICE
        or invoice.currency != "EUR"
        or payment is None
        or not MIN_AMOUNT <= invoice.total <= MAX_AMOUNT
    ):
        return None
    return payload(
        name=payment.account_name,
        iban=payment.iban,
        amount=invoice.total,
        reference=invoice.payment_reference,
        bic=payment.bic,
    )
