"""Request bodies: size limit, media type, strict JSON and strict validation, each a problem.

A body is JSON only when it says so: ``Content-Type: application/json``, UTF-8 if a charset is
named. (Chalice's own check, before the view, refuses other types, ``+json`` ones included, with
415 too; a missing header it takes for JSON, so that case is caught here.) It is read strictly
(``shared.strict_json``: no duplicate keys, no ``NaN``, bounded depth) and validated in
pydantic's strict JSON mode: a boolean is ``true`` or ``false``, an integer is an integer (not
``"1"``, ``1.0`` or ``true``), while dates, decimals and enums keep their JSON spelling as
strings.
"""

from __future__ import annotations

from email.message import Message
from typing import TypeVar
from urllib.parse import parse_qs

from pydantic import BaseModel, ValidationError

from shared import strict_json
from shared.config import settings
from shared.http import problems

Model = TypeVar("Model", bound=BaseModel)

JSON_MEDIA_TYPE = "application/json"


def parse(raw_body: bytes | str | None, model: type[Model], *, content_type: str | None) -> Model:
    """``raw_body`` as ``model``; ``content_type`` is the request's Content-Type header."""
    raw = raw_body.encode() if isinstance(raw_body, str) else raw_body or b""
    limit = settings().max_body_bytes
    if len(raw) > limit:
        raise problems.too_large(limit)
    if raw and not is_json(content_type):
        raise problems.unsupported_media_type(content_type)
    try:
        strict_json.loads(raw)
    except strict_json.StrictJsonError as error:
        raise problems.malformed_json(str(error)) from None
    try:
        return model.model_validate_json(raw, strict=True)
    except ValidationError as error:
        raise problems.invalid_body(error) from None


FORM_MEDIA_TYPE = "application/x-www-form-urlencoded"


def form_fields(
    raw_body: bytes | str | None, content_type: str | None, fields: frozenset[str], problem: str
) -> dict[str, str]:
    """A browser form's non-blank fields, each named in ``fields`` (its last value if repeated):
    415 for another body, 422 ``problem`` for one that does not read or names other fields."""
    if (content_type or "").split(";")[0].strip().lower() != FORM_MEDIA_TYPE:
        raise problems.unsupported_media_type(content_type)
    raw = raw_body.encode() if isinstance(raw_body, str) else raw_body or b""
    limit = settings().max_body_bytes
    if len(raw) > limit:
        raise problems.too_large(limit)
    text = raw.decode("utf-8", "replace")
    try:
        parsed = parse_qs(text, max_num_fields=len(fields) + 1, strict_parsing=bool(text))
    except ValueError:
        raise problems.unprocessable(problem, "the form could not be read") from None
    found = {name: values[-1] for name, values in parsed.items() if values and values[-1].strip()}
    unknown = set(found) - fields
    if unknown:
        raise problems.unprocessable(
            problem,
            "the form has fields it does not take",
            errors=[{"pointer": f"#/{name}", "detail": "not a field"} for name in sorted(unknown)],
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
