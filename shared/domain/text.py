"""Text as the domain takes it: what a person typed, safe in any document it reaches.

Free text ends up in UBL XML, PDFs, CSV exports, e-mails and logs. XML 1.0 cannot carry most
control characters at all (a NUL makes the document ill-formed), and the rest of the controls,
lone surrogates and Unicode non-characters only ever arrive by mistake or malice. So:

- ``SingleLine`` and ``MultiLine`` are the request types of free text: the value is trimmed, and
  refused (422, at the field's pointer) if it holds any of ``UNWRITABLE``: C0 controls (a multi-line
  field keeps tab and newline; a carriage return becomes a newline), DEL, C1 controls, surrogates
  and non-characters; a single-line field also refuses tabs and line breaks. Each field states
  its length limit: ``Annotated[str, SingleLine(max_length=200)]``.
- ``scrub`` is for text the system did not refuse: a bank file's or a gateway's free text (the
  payment is real, so the text is cleaned rather than the message refused) and anything already
  stored when a writer renders it (UBL, PDF, CSV), so no document can be broken by old data.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

from annotated_types import GroupedMetadata
from pydantic import AfterValidator, BeforeValidator, StringConstraints, ValidationInfo

_NONCHARACTERS = "\ufdd0-\ufdef\ufffe\uffff" + "".join(
    f"{chr(plane << 16 | 0xFFFE)}{chr(plane << 16 | 0xFFFF)}" for plane in range(1, 17)
)
# Never in text: the C0 controls but tab, newline and carriage return, DEL, the C1 controls,
# surrogates (only a lone one can reach a str) and the non-characters (U+FFFE and U+FFFF are
# outside XML 1.0's Char production; the others are "discouraged" by it).
UNWRITABLE = re.compile(f"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff{_NONCHARACTERS}]")
_SURROGATES = re.compile("[\ud800-\udfff]")
_LINE_BREAKS = re.compile("[\t\n\r\u2028\u2029]")
_NEWLINES = re.compile("\r\n?")

REPLACEMENT = "\ufffd"

# The validation context that reads an item back: text stored before these rules existed is
# taken as it is (the writers scrub it), so one old item cannot make a read fail.
STORED = {"stored": True}


def scrub(text: str, replacement: str = REPLACEMENT) -> str:
    """``text`` with every character a document cannot carry replaced (U+FFFD by default)."""
    return UNWRITABLE.sub(replacement, text)


def _refuse(found: re.Match[str], why: str) -> ValueError:
    char = found.group()
    return ValueError(f"contains U+{ord(char):04X} at position {found.start() + 1}: {why}")


def _no_surrogates(value: object) -> object:
    """Refused before pydantic reads the string (it cannot, and would say only that)."""
    if isinstance(value, str) and not value.isprintable() and (found := _SURROGATES.search(value)):
        raise _refuse(found, "a lone surrogate is not a character")
    return value


def _is_stored(info: ValidationInfo) -> bool:
    return isinstance(info.context, dict) and info.context.get("stored") is True


def _multi_line(value: str, info: ValidationInfo) -> str:
    if value.isprintable() or _is_stored(info):  # printable: no control, surrogate, non-character
        return value
    value = _NEWLINES.sub("\n", value)
    if found := UNWRITABLE.search(value):
        raise _refuse(found, "control characters and non-characters are not allowed")
    return value


def _single_line(value: str, info: ValidationInfo) -> str:
    if value.isprintable():  # the common case, at C speed: no line break either
        return value
    if not _is_stored(info) and (found := _LINE_BREAKS.search(value)):
        raise _refuse(found, "tabs and line breaks are not allowed in a single-line field")
    return _multi_line(value, info)


@dataclass(frozen=True)
class SingleLine(GroupedMetadata):
    """One line of text, trimmed, of ``min_length`` to ``max_length`` characters.

    ``Annotated[str, SingleLine(max_length=200)]``; ``min_length=0`` where empty means "none".
    """

    max_length: int
    min_length: int = 1

    def __iter__(self) -> Iterator[object]:
        yield from _trimmed(self.min_length, self.max_length)
        yield AfterValidator(_single_line)
        yield BeforeValidator(_no_surrogates)  # wraps all of the above, so it runs first


@dataclass(frozen=True)
class MultiLine(GroupedMetadata):
    """Text that may hold tabs and newlines (CR LF and CR become LF), trimmed, with a length."""

    max_length: int
    min_length: int = 1

    def __iter__(self) -> Iterator[object]:
        yield from _trimmed(self.min_length, self.max_length)
        yield AfterValidator(_multi_line)
        yield BeforeValidator(_no_surrogates)  # wraps all of the above, so it runs first


def _trimmed(min_length: int, max_length: int) -> StringConstraints:
    return StringConstraints(strip_whitespace=True, min_length=min_length, max_length=max_length)


_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_cell(text: str) -> str:
    """``text`` scrubbed, and quoted with a leading apostrophe if a spreadsheet would take it
    for a formula (OWASP's CSV injection rule: a cell starting ``= + - @``, tab or CR)."""
    cleaned = scrub(text)
    return f"'{cleaned}" if cleaned.startswith(_FORMULA_START) else cleaned
