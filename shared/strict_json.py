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
_SURROGATE = re.compile("[\ud800-\udfff]")


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
    _check_values(document)
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


def _check_values(document: Any) -> None:
    """Refuse nesting deeper than ``MAX_DEPTH`` and unpaired surrogates, without recursion."""
    pending = [(document, 1)]
    while pending:
        value, level = pending.pop()
        if isinstance(value, dict | list) and level > MAX_DEPTH:
            raise StrictJsonError(f"the body nests deeper than {MAX_DEPTH} levels")
        if isinstance(value, dict):
            if any(_SURROGATE.search(key) for key in value):
                raise StrictJsonError("a key escapes a lone UTF-16 surrogate")
            pending.extend((child, level + 1) for child in value.values())
        elif isinstance(value, list):
            pending.extend((child, level + 1) for child in value)
        elif isinstance(value, str) and _SURROGATE.search(value):
            raise StrictJsonError("a string escapes a lone UTF-16 surrogate")
