"""``Omittable[T]``: a request field a client may leave out, but not send as ``null``.

A field written ``T | None = None`` reads an omitted field and an explicit ``null`` alike. Where
the API's schema does not say the field is nullable, ``null`` is a mistake of the client's (a
serializer writing every attribute, a typo'd default) and is refused, naming the field; leaving
the field out still takes the default.
"""

from __future__ import annotations

from typing import Annotated, Any, TypeVar

from pydantic import AfterValidator, GetJsonSchemaHandler
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import CoreSchema

T = TypeVar("T")


def _not_null(value: Any) -> Any:
    if value is None:
        raise ValueError("may not be null (leave the field out instead)")
    return value


class _NotNullInSchema:
    """The JSON Schema says what is validated: ``T``'s schema, without the ``null`` branch."""

    def __get_pydantic_json_schema__(
        self, schema: CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        found = handler(schema)
        branches = [each for each in found.get("anyOf", []) if each != {"type": "null"}]
        if len(branches) != 1:
            return found
        rest = {key: value for key, value in found.items() if key != "anyOf"}
        return {**branches[0], **rest}


Omittable = Annotated[T | None, AfterValidator(_not_null), _NotNullInSchema()]
