"""``Omittable[T]``: a request field a client may leave out, but not send as ``null``.

A field written ``T | None = None`` reads an omitted field and an explicit ``null`` alike. Where
the API's schema does not say the field is nullable, ``null`` is a mistake of the client's (a
serializer writing every attribute, a typo'd default) and is refused, naming the field; leaving
the field out still takes the default.
"""

from __future__ import annotations

from typing import Annotated, Any, TypeVar

from pydantic import AfterValidator

from shared.domain.json_schema import NOT_NULL

T = TypeVar("T")


def _not_null(value: Any) -> Any:
    if value is None:
        raise ValueError("may not be null (leave the field out instead)")
    return value


Omittable = Annotated[T | None, AfterValidator(_not_null), NOT_NULL]
