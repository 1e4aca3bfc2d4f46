"""components/schemas generated from pydantic models.

An overlay schema written ``{x-model: "package.module:Class", x-mode: validation}`` is replaced
by the model's JSON Schema: mode ``validation`` for what a request sends, ``serialization`` for
what an answer holds. Models it refers to join components/schemas under their class names. The
entry may also carry prose (description, example, examples), for the schema and, under
``properties``, for its fields; the rules (types, bounds, required) are the model's.
"""

from __future__ import annotations

import importlib
from typing import Any, cast

from pydantic import BaseModel
from pydantic.json_schema import JsonSchemaMode

REF_TEMPLATE = "#/components/schemas/{model}"
MODES = ("validation", "serialization")
NOTES = {"description", "example", "examples"}  # what the overlay may add to a model's schema


def is_derived(schema: Any) -> bool:
    return isinstance(schema, dict) and "x-model" in schema


def model(reference: str) -> type[BaseModel]:
    module, _, name = reference.partition(":")
    found = getattr(importlib.import_module(module), name)
    if not (isinstance(found, type) and issubclass(found, BaseModel)):
        raise TypeError(f"{reference} is not a pydantic model")
    return found


def _admits_null(node: dict[str, Any]) -> bool:
    kinds = node.get("type")
    branches = node.get("anyOf", []) + node.get("oneOf", [])
    return (
        kinds == "null"
        or (isinstance(kinds, list) and "null" in kinds)
        or any(_admits_null(branch) for branch in branches)
    )


def _tidy(node: Any) -> Any:
    """The schema without pydantic's titles (the property names say as much), nor a default of
    null where null is refused (a field that may be left out, not sent as null: Omittable)."""
    if isinstance(node, dict):
        return {
            k: _tidy(v)
            for k, v in node.items()
            if k != "title" and not (k == "default" and v is None and not _admits_null(node))
        }
    if isinstance(node, list):
        return [_tidy(v) for v in node]
    return node


def _noted(name: str, schema: dict[str, Any], notes: dict[str, Any]) -> dict[str, Any]:
    """The model's schema with the overlay's prose on it and on its properties (never rules)."""
    if wrong := set(notes) - NOTES - {"properties"}:
        raise ValueError(f"schema {name}: {sorted(wrong)} come from the model, not the overlay")
    noted = {**schema, **{k: v for k, v in notes.items() if k != "properties"}}
    for field, field_notes in notes.get("properties", {}).items():
        if field not in schema.get("properties", {}) or set(field_notes) - NOTES:
            raise ValueError(f"schema {name}: {field} is no field of the model, or not prose")
        noted["properties"] = {**noted["properties"]}
        noted["properties"][field] = {**schema["properties"][field], **field_notes}
    return noted


def generate(name: str, marker: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The schema ``name`` and the schemas it refers to, by name."""
    notes = {k: v for k, v in marker.items() if k not in ("x-model", "x-mode")}
    mode = marker.get("x-mode", "validation")
    if mode not in MODES:
        raise ValueError(f"schema {name}: x-mode is {' or '.join(MODES)}")
    found = model(marker["x-model"])
    if found.__name__ != name:
        raise ValueError(f"schema {name} names the model {found.__name__}")
    wire = cast(JsonSchemaMode, mode)
    schema = _tidy(found.model_json_schema(mode=wire, ref_template=REF_TEMPLATE))
    return {**schema.pop("$defs", {}), name: _noted(name, schema, notes)}
