"""Strict JSON: one reading of a document, refusing what RFC 8259 leaves to the parser.

Python's ``json`` takes the last of duplicate keys, reads ``NaN``, ``Infinity`` and ``1e400``
(as infinity), guesses UTF-16 and UTF-32, and recurses as deep as the body nests. Two readers of
the same bytes (the signature check and the handler, this service and the one it forwards to)
could then see two documents; and a lone surrogate escape (``"\\ud800"``) reads as a string no
UTF-8 encoder will write back. Here a duplicate key, a number beyond a float, text that is not
UTF-8 (escaped or not) and nesting deeper than ``MAX_DEPTH`` are errors.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

MAX_DEPTH = 32  # DynamoDB nests no deeper, and no document of ours comes close
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")  # \uD800 to \uDFFF: paired or not


class StrictJsonError(ValueError):
    """The bytes are not one strict JSON document; the message says why, for the sender."""


def loads(raw: bytes) -> Any:
    """The document in ``raw`` (UTF-8 JSON), or ``StrictJsonError``."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as error:
        raise StrictJsonError(f"the body is not UTF-8: {error.reason}") from None
    try:
        document = json.loads(
            text,
            object_pairs_hook=_unique_keys,
            parse_constant=_no_constant,
            parse_float=_finite_float,
        )
    except RecursionError:
        raise StrictJsonError(f"the body nests deeper than {MAX_DEPTH} levels") from None
    except StrictJsonError:
        raise
    except ValueError as error:
        raise StrictJsonError(f"the body is not JSON: {error}") from None
    if not _nests_within(document, MAX_DEPTH):
        raise StrictJsonError(f"the body nests deeper than {MAX_DEPTH} levels")
    if _SURROGATE_ESCAPE.search(text) and not _encodable(document):
        raise StrictJsonError("the body escapes a lone UTF-16 surrogate")
    return document


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    document: dict[str, Any] = {}
    for key, value in pairs:
        if key in document:
            raise StrictJsonError(f"the body repeats the key {key!r} in one object")
        document[key] = value
    return document


def _no_constant(name: str) -> Any:
    raise StrictJsonError(f"{name} is not a JSON number")


def _finite_float(text: str) -> float:
    number = float(text)
    if not math.isfinite(number):
        raise StrictJsonError(f"{text[:40]} is beyond the range of a number")
    return number


def _nests_within(document: Any, limit: int) -> bool:
    """Whether arrays and objects nest at most ``limit`` deep, level by level (no recursion)."""
    level = [document] if isinstance(document, dict | list) else []
    depth = 0
    while level:
        depth += 1
        if depth > limit:
            return False
        children: list[Any] = []
        for container in level:
            values = container.values() if isinstance(container, dict) else container
            children += [value for value in values if isinstance(value, dict | list)]
        level = children
    return True


def _encodable(document: Any) -> bool:
    """Whether every key and string encodes as UTF-8 (a lone surrogate does not)."""
    try:
        json.dumps(document, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True
