"""Document numbers and the payment reference printed on them.

Numbers are gap-free per series: a series is a prefix and the issue year ("INV-2026"), and the
store hands out the next sequence of a series in the same transaction that writes the document.
This module only formats: ``INV-2026-000123`` (six digits, more once a year passes 999999).

The payment reference is an ISO 11649 structured creditor reference ("RF" + two check digits +
up to 21 alphanumerics): banks carry it unchanged through SEPA credit transfers and camt.053
statements, and its ISO 7064 mod 97-10 check digits catch mistyped references before matching.
"""

from __future__ import annotations

import re
from datetime import date

from stdnum import iso11649

MAX_REFERENCE_BODY = 21  # ISO 11649: the creditor's part of the reference, alphanumerics only
_REFERENCE = re.compile(r"^RF\d{2}[A-Z0-9]{1,21}$")


def series(prefix: str, issued_on: date) -> str:
    """The series a document issued on ``issued_on`` belongs to, e.g. ``INV-2026``."""
    return f"{prefix}-{issued_on.year}"


def number(series: str, sequence: int) -> str:
    """The document number: the series and the sequence, zero-padded to six digits."""
    if sequence < 1:
        raise ValueError(f"a sequence starts at 1, not {sequence}")
    return f"{series}-{sequence:06d}"


def mod97(text: str) -> int:
    """ISO 7064 mod 97-10 remainder of alphanumeric ``text`` (letters count A=10 .. Z=35).

    Shared by IBANs (ISO 13616) and creditor references (ISO 11649): both move their check
    characters to the end and accept when the remainder is 1.
    """
    digits = "".join(str(int(char, 36)) for char in text)
    return int(digits) % 97


def payment_reference(number: str) -> str:
    """The RF creditor reference of a document number (its letters and digits, uppercased)."""
    body = re.sub(r"[^A-Za-z0-9]", "", number).upper()
    if not body or len(body) > MAX_REFERENCE_BODY:
        raise ValueError(
            f"'{number}' must hold 1 to {MAX_REFERENCE_BODY} letters or digits for a reference"
        )
    check = 98 - mod97(body + "RF00")
    return f"RF{check:02d}{body}"


def is_valid_reference(ref: str) -> bool:
    """Whether ``ref`` is a well-formed RF reference with correct check digits.

    Spaces (references are printed in groups of four) and lowercase are tolerated.
    """
    compact = ref.replace(" ", "").upper()
    return bool(_REFERENCE.match(compact)) and iso11649.is_valid(compact)
