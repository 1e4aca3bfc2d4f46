"""JSON payloads read as models: size limit, media type, strict JSON and strict validation, each
refused with a domain error (shared/errors.py), which a route answers as a problem.

A body is JSON only when it says so: ``Content-Type: application/json``, UTF-8 if a charset is
named. (Chalice's own check, before the view, refuses other types, ``+json`` ones included, with
415 too; a missing header it takes for JSON, so that case is caught here.) It is read strictly
(``shared.strict_json``: no duplicate keys, no ``NaN``, bounded depth) and validated in
pydantic's strict JSON mode: a boolean is ``true`` or ``false``, an integer is an integer (not
``"1"``, ``1.0`` or ``true``), while dates, decimals and enums keep their JSON spelling as
strings.
"""

from __future__ import annotations

from collections.abc import Mapping
from email.message import Message
from typing import TypeVar

from pydantic import BaseModel, ValidationError

from shared import errors, strict_json
from shared.config import settings

Model = TypeVar("Model", bound=BaseModel)

JSON_MEDIA_TYPE = "application/json"


def parse(raw_body: bytes | str | None, model: type[Model], *, content_type: str | None) -> Model:
    """``raw_body`` as ``model``; ``content_type`` is the request's Content-Type header."""
    raw = raw_body.encode() if isinstance(raw_body, str) else raw_body or b""
    limit = settings().max_body_bytes
    if len(raw) > limit:
        raise errors.TooLarge(f"the body exceeds {limit} bytes")
    if raw and not is_json(content_type):
        raise errors.UnsupportedMediaType(content_type)
    try:
        strict_json.loads(raw)
    except strict_json.StrictJsonError as error:
        raise errors.Invalid("malformed-json", "Body is not JSON", str(error)) from None
    try:
        return model.model_validate_json(raw, strict=True)
    except ValidationError as error:
        raise errors.invalid_fields(error) from None


def form_fields(
    form: Mapping[str, list[str]] | None, fields: frozenset[str], problem: str
) -> dict[str, str]:
    """A browser form's non-blank fields (``form`` as shared.http.forms reads it, None for one
    that did not read), each named in ``fields`` (its last value if repeated); Unprocessable
    ``problem`` for a form that did not read or names other fields."""
    if form is None:
        raise errors.Unprocessable(problem, "the form could not be read")
    found = {name: values[-1] for name, values in form.items() if values and values[-1].strip()}
    unknown = set(found) - fields
    if unknown:
        raise errors.Unprocessable(
            problem,
            "the form has fields it does not take",
            [{"pointer": f"#/{name}", "detail": "not a field"} for name in sorted(unknown)],
        )
    return found


def is_json(content_type: str | None) -> bool:
    """Whether a Content-Type header names JSON (any parameters aside; UTF-8 if a charset)."""
    if not content_type:
        return False
    header = Message()
    header["Content-Type"] = content_type
    charset = header.get_content_charset("utf-8")
    return header.get_content_type() == JSON_MEDIA_TYPE and charset in (
        "utf-8",
        "utf8",
    )
