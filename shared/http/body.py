"""Request bodies: size limit, JSON parsing and pydantic validation, each failing as a problem."""

from __future__ import annotations

import json
from typing import TypeVar

from pydantic import BaseModel, ValidationError

from shared.config import settings
from shared.http import problems

Model = TypeVar("Model", bound=BaseModel)


def parse(raw_body: bytes | str | None, model: type[Model]) -> Model:
    raw = raw_body.encode() if isinstance(raw_body, str) else raw_body or b""
    limit = settings().max_body_bytes
    if len(raw) > limit:
        raise problems.too_large(limit)
    try:
        document = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as error:
        raise problems.malformed_json(f"the body is not valid JSON: {error}") from None
    except RecursionError:  # nested deeper than the parser goes: no document of ours is
        raise problems.malformed_json("the body is not valid JSON: nested too deep") from None
    try:
        return model.model_validate(document)
    except ValidationError as error:
        raise problems.invalid_body(error) from None
