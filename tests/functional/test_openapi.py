"""openapi.yaml describes exactly the routes app.py declares, and its examples are accepted."""

from __future__ import annotations

from pathlib import Path

import yaml

import app as app_module
from shared.domain.order import OrderRequest

SPEC = yaml.safe_load((Path(__file__).resolve().parents[2] / "openapi.yaml").read_text())


def _app_operations() -> set[tuple[str, str]]:
    return {
        (path, method.lower())
        for path, methods in app_module.app.routes.items()
        for method in methods
    }


def test_every_route_is_documented_and_every_documented_route_exists():
    documented = {(path, method) for path, item in SPEC["paths"].items() for method in item}
    assert documented == _app_operations()


def test_the_documented_order_example_is_a_valid_request():
    example = SPEC["paths"]["/orders"]["post"]["requestBody"]["content"]["application/json"][
        "example"
    ]
    assert OrderRequest.model_validate(example).lines[0].sku == "WIDGET-1"


def test_request_schema_fields_match_the_model():
    schema = SPEC["components"]["schemas"]["OrderRequest"]
    assert set(schema["properties"]) == set(OrderRequest.model_fields)
    required = {name for name, field in OrderRequest.model_fields.items() if field.is_required()}
    assert set(schema["required"]) == required


def test_the_document_is_valid_openapi_3_1():
    from openapi_spec_validator import validate

    validate(SPEC)
