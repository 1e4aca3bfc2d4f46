"""Reading remittance text: which documents a payer names, and who the payer is.

Remittance arrives as free text: the unstructured remittance of a bank transfer (140 characters
in SEPA), a card statement descriptor, a cheque memo typed by a clerk or read by OCR. Payers
copy invoice numbers by hand, so ``INV-2026-000123`` turns up as ``inv 2026 000123``,
``INV2026000123`` or ``Inv.2026/123``, and scanned memos confuse look-alike characters
(``INV-2O26-000l23``). ``extract`` finds what is meant and says how sure the reading is:

- ``exact``: the text holds the canonical form;
- ``normalised``: only case, separators or dropped leading zeros differ;
- ``ocr_corrected``: look-alike letters stood in digit positions (O/o -> 0, I/l/| -> 1,
  S -> 5, B -> 8, Z -> 2, G -> 6).

Structured creditor references (ISO 11649, ``RF`` + check digits) are accepted only when their
check digits hold, with or without the print groups of four; a mistyped one is dropped rather
than guessed at.

``payer_key`` turns a payer's name and account into the keys a learned alias is stored under,
so "ACME TRADING GMBH" paying from "de89 3704 ..." finds what a clerk once confirmed for
"Acme Trading GmbH".

Pure functions over strings: no I/O, deterministic, safe to run on untrusted text (every
pattern is linear: bounded repetitions, no nested quantifiers).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from functools import lru_cache
from typing import Literal

from shared.domain import numbering

DEFAULT_PREFIXES = ("INV",)
EARLIEST_YEAR, LATEST_YEAR = 2000, 2099  # a "year" outside these is another number, not a series

# Look-alike characters as they appear in digit positions of typed or scanned references.
OCR_DIGITS = {
    "O": "0",
    "o": "0",
    "I": "1",
    "l": "1",
    "|": "1",
    "S": "5",
    "B": "8",
    "Z": "2",
    "G": "6",
}
_DIGIT_LIKE = "0-9" + re.escape("".join(OCR_DIGITS))
_SEPARATOR = r"[\s._/\\:#-]{0,3}"
_BOUNDARY_BEFORE = r"(?<![A-Za-z0-9])"
_BOUNDARY_AFTER = r"(?![A-Za-z0-9])"

# An RF reference: compact, or printed in groups of four ("RF18 5390 0754 7034").
_RF_COMPACT = re.compile(_BOUNDARY_BEFORE + r"RF\d{2}[A-Z0-9]{1,21}" + _BOUNDARY_AFTER, re.I)
_RF_GROUPED = re.compile(
    _BOUNDARY_BEFORE + r"RF\d{2}(?: [A-Z0-9]{4}){0,5}(?: [A-Z0-9]{1,4})?" + _BOUNDARY_AFTER, re.I
)

LEGAL_FORMS = frozenset(
    """ag aps as ab bv bvba co company corp corporation cv eurl gbr gmbh inc incorporated kft kg
    kgaa limited llc llp lp ltd nv oy oyj ohg plc pte pty sa sarl sas sasu se sl spa sprl spzoo
    srl sro ug""".split()  # noqa: SIM905 (a table reads better than 43 quoted strings)
)
_LEGAL_FORM_WORDS = 3  # "sp. z o.o." spans three words


class Found(StrEnum):
    """How a reference was read from the text (see the module notes)."""

    EXACT = "exact"
    NORMALISED = "normalised"
    OCR_CORRECTED = "ocr_corrected"


@dataclass(frozen=True, slots=True)
class Reference:
    """A document reference read from remittance text.

    ``value`` is canonical: an invoice number as issued (``INV-2026-000123``) or a compact,
    uppercase RF reference; ``raw`` is the text it was read from.
    """

    kind: Literal["number", "creditor_reference"]
    value: str
    raw: str
    found: Found

    def describe(self) -> str:
        """The reading in words, e.g. "INV-2026-000123 (OCR-corrected from 'INV-2O26-000l23')"."""
        if self.found is Found.EXACT:
            return self.value
        how = "OCR-corrected" if self.found is Found.OCR_CORRECTED else "normalised"
        return f"{self.value} ({how} from '{self.raw}')"


def extract(text: str, prefixes: Sequence[str] = DEFAULT_PREFIXES) -> tuple[Reference, ...]:
    """Every document number (of the series ``prefixes``) and valid RF reference in ``text``.

    In the order they appear, each canonical value once (its best reading kept).
    """
    found: list[tuple[int, Reference]] = []
    found += _creditor_references(text)
    for prefix in prefixes:
        found += _numbers(text, prefix)
    best: dict[str, tuple[int, Reference]] = {}
    rank = {Found.EXACT: 0, Found.NORMALISED: 1, Found.OCR_CORRECTED: 2}
    for position, reference in sorted(found, key=lambda item: item[0]):
        kept = best.get(reference.value)
        if kept is None or rank[reference.found] < rank[kept[1].found]:
            best[reference.value] = (kept[0] if kept else position, reference)
    return tuple(reference for _, reference in sorted(best.values(), key=lambda item: item[0]))


def payer_key(name: str | None, account: str | None) -> list[str]:
    """The alias keys of a payer: ``account:<IBAN>`` and ``name:<normalised name>``.

    The account is compacted and uppercased. The name is casefolded, stripped of accents,
    punctuation and trailing legal forms (GmbH, Ltd, Inc, SA, BV, SARL, LLC, ...), and its
    whitespace collapsed. The prefixes keep an account and a name from ever colliding.
    """
    keys = []
    if account:
        compact = re.sub(r"[\s-]", "", account).upper()
        if compact:
            keys.append(f"account:{compact}")
    if name:
        normalised = normalise_name(name)
        if normalised:
            keys.append(f"name:{normalised}")
    return keys


@lru_cache(maxsize=16_384)  # the same billed names are compared for every payment
def normalise_name(name: str) -> str:
    """A company name as compared: "Müller & Söhne GmbH & Co. KG" -> "muller sohne"."""
    decomposed = unicodedata.normalize("NFKD", name.casefold())
    plain = "".join(char for char in decomposed if not unicodedata.combining(char))
    words = [word for word in re.split(r"[\s,;]+", plain) if word]
    changed = True
    while changed and words:
        changed = False
        if not re.sub(r"\W", "", words[-1]):  # a lone "&" or "-" left by a removed form
            words.pop()
            changed = True
            continue
        for size in range(min(_LEGAL_FORM_WORDS, len(words) - 1), 0, -1):
            if re.sub(r"\W", "", "".join(words[-size:])) in LEGAL_FORMS:
                del words[-size:]
                changed = True
                break
    return " ".join(re.sub(r"[\W_]+", " ", " ".join(words)).split())


# --- readers -----------------------------------------------------------------------------------


def _number_pattern(prefix: str) -> re.Pattern[str]:
    """``<PREFIX> sep <YEAR> sep <SEQUENCE>``; also "invoice [no] <YEAR>-<SEQUENCE>" for INV."""
    label = re.escape(prefix)
    if prefix.upper() == "INV":
        label = r"INV(?:OICE)?(?:\s*(?:NO|NR|NUMBER|N°)\.?)?"
    return re.compile(
        _BOUNDARY_BEFORE
        + rf"(?P<prefix>{label}){_SEPARATOR}"
        + rf"(?P<year>[{_DIGIT_LIKE}]{{4}}){_SEPARATOR}"
        + rf"(?P<sequence>[{_DIGIT_LIKE}]{{1,7}})"
        + _BOUNDARY_AFTER,
        re.I,
    )


_PATTERNS: dict[str, re.Pattern[str]] = {}


def _numbers(text: str, prefix: str) -> list[tuple[int, Reference]]:
    pattern = _PATTERNS.get(prefix) or _PATTERNS.setdefault(prefix, _number_pattern(prefix))
    found = []
    for match in pattern.finditer(text):
        year, year_ocr = _digits(match["year"])
        sequence, sequence_ocr = _digits(match["sequence"])
        if not EARLIEST_YEAR <= int(year) <= LATEST_YEAR or int(sequence) < 1:
            continue
        canonical = numbering.number(f"{prefix.upper()}-{year}", int(sequence))
        raw = match.group(0)
        if year_ocr or sequence_ocr:
            how = Found.OCR_CORRECTED
        elif raw == canonical:
            how = Found.EXACT
        else:
            how = Found.NORMALISED
        found.append((match.start(), Reference("number", canonical, raw, how)))
    return found


def _digits(chars: str) -> tuple[str, bool]:
    """``chars`` with look-alikes read as digits, and whether any was."""
    digits = "".join(OCR_DIGITS.get(char, char) for char in chars)
    return digits, digits != chars


def _creditor_references(text: str) -> list[tuple[int, Reference]]:
    found = []
    for match in _RF_COMPACT.finditer(text):
        if numbering.is_valid_reference(match.group(0)):
            found.append((match.start(), _creditor(match.group(0))))
    for match in _RF_GROUPED.finditer(text):
        raw = match.group(0)
        if " " not in raw.strip():
            continue  # compact: read above
        # the groups may run into the next word ("RF18 5390 0754 7034 INV1"): longest valid wins
        groups = raw.split(" ")
        for size in range(len(groups), 1, -1):
            candidate = " ".join(groups[:size])
            if numbering.is_valid_reference(candidate):
                found.append((match.start(), _creditor(candidate)))
                break
    return found


def _creditor(raw: str) -> Reference:
    compact = raw.replace(" ", "").upper()
    how = Found.EXACT if raw == compact else Found.NORMALISED
    return Reference("creditor_reference", compact, raw, how)
