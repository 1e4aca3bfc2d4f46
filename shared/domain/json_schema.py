"""JSON Schema for rules a request type's validator checks, where pydantic's schema of the type
alone would not state them (openapi.yaml is generated from these schemas).

``Annotated[T, Keywords(uniqueItems=True)]`` adds the keywords to ``T``'s schema;
``Annotated[T | None, NOT_NULL]`` drops the ``null`` branch of a field that may be left out but
not sent as null (the validator refusing null is the field's own: ``Omittable`` has both).
"""

from __future__ import annotations

from typing import Any

from pydantic import GetJsonSchemaHandler
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import CoreSchema


class Keywords:
    def __init__(self, **keywords: Any) -> None:
        self.keywords = keywords

    def __get_pydantic_json_schema__(
        self, schema: CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        return {**handler(schema), **self.keywords}


class _NotNull:
    def __get_pydantic_json_schema__(
        self, schema: CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        found = handler(schema)
        branches = [each for each in found.get("anyOf", []) if each != {"type": "null"}]
        if len(branches) != 1:
            return found
        rest = {key: value for key, value in found.items() if key != "anyOf"}
        return {**branches[0], **rest}


NOT_NULL = _NotNull()
