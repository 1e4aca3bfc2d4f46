"""Form bodies (``application/x-www-form-urlencoded``), as the portal's pages post them, read
into plain fields for the use cases."""

from __future__ import annotations

from urllib.parse import parse_qs

FORM_TYPE = "application/x-www-form-urlencoded"


def is_form(content_type: str | None) -> bool:
    return (content_type or "").split(";")[0].strip().lower() == FORM_TYPE


def read(
    raw_body: bytes | str | None, *, max_fields: int, strict: bool = False
) -> dict[str, list[str]] | None:
    """Each field of the form with its values in order (bytes that are not UTF-8 replaced);
    None when the body holds more than ``max_fields`` fields or, ``strict``, a field that does
    not read (``name=value``)."""
    text = raw_body.decode("utf-8", "replace") if isinstance(raw_body, bytes) else raw_body or ""
    try:
        return parse_qs(text, max_num_fields=max_fields, strict_parsing=strict and bool(text))
    except ValueError:
        return None
