"""A schema written by hand in the overlay although a pydantic model of its name exists cannot
drift from the model: its ``x-fields`` names the model, and the schema lists the model's fields
but for the differences ``x-fields`` names (renamed, model-only, answer-only), each of them real."""

from __future__ import annotations

import importlib
import inspect
import pkgutil
from typing import Any

import pytest
from pydantic import BaseModel

from tools.openapi import build, models

SCHEMAS: dict[str, Any] = build.read(build.OVERLAY)["components"]["schemas"]
HAND_WRITTEN = {
    name: schema
    for name, schema in SCHEMAS.items()
    if isinstance(schema, dict) and not models.is_derived(schema)
}
NOTED = {
    name: schema[build.FIELDS] for name, schema in HAND_WRITTEN.items() if build.FIELDS in schema
}
DIFFERENCES = {"of", "renamed", "model-only", "answer-only", "why"}


def _model_names() -> set[str]:
    """The class names of the pydantic models in shared/ and functions/."""
    names: set[str] = set()
    for package in ("shared", "functions"):
        for module in pkgutil.walk_packages([package], prefix=f"{package}."):
            for name, found in vars(importlib.import_module(module.name)).items():
                if inspect.isclass(found) and issubclass(found, BaseModel):
                    names.add(name)
    return names


def _field_names(model: type[BaseModel]) -> set[str]:
    return {
        info.serialization_alias or info.alias or name for name, info in model.model_fields.items()
    }


def test_every_hand_written_schema_named_after_a_model_names_it():
    unnoted = sorted(set(HAND_WRITTEN) & _model_names() - set(NOTED))
    assert unnoted == [], f"give these an x-fields (or generate them): {unnoted}"


@pytest.mark.parametrize("name", sorted(NOTED))
def test_a_hand_written_schema_lists_its_models_fields_but_the_named_differences(name):
    # Given the model the schema's x-fields names, and the differences it names
    noted = NOTED[name]
    assert set(noted) <= DIFFERENCES and "of" in noted
    model = models.model(noted["of"])
    assert model.__name__ == name
    fields = _field_names(model)
    renamed: dict[str, str] = noted.get("renamed", {})
    model_only, answer_only = set(noted.get("model-only", [])), set(noted.get("answer-only", []))

    # Then each difference is real: renamed and model-only are fields, answer-only are not
    assert set(renamed) <= fields and model_only <= fields
    assert not answer_only & fields

    # And the schema lists exactly the model's fields, so renamed, less and plus the differences
    listed = {renamed.get(field, field) for field in fields - model_only} | answer_only
    assert set(HAND_WRITTEN[name].get("properties", {})) == listed


def test_the_document_carries_no_x_fields():
    document = build.document(build.read(build.OVERLAY))
    assert not [name for name, s in document["components"]["schemas"].items() if build.FIELDS in s]


def test_a_known_renaming_is_recorded():
    # CustomerPage: the model's items are the API's customers
    assert NOTED["CustomerPage"]["renamed"] == {"items": "customers"}
