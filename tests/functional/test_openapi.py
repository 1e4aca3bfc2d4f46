"""openapi.yaml is what `make openapi` generates, describes exactly the routes app.py declares,
and its examples are accepted."""

from __future__ import annotations

from pathlib import Path

import yaml

import app as app_module
from shared.domain.order import OrderRequest
from tools.openapi import __main__ as generator
from tools.openapi.build import OVERLAY

DOCUMENT = Path(__file__).resolve().parents[2] / "openapi.yaml"
SPEC = yaml.safe_load(DOCUMENT.read_text())


def _app_operations() -> set[tuple[str, str]]:
    return {
        (path, method.lower())
        for path, methods in app_module.app.routes.items()
        for method in methods
    }


def test_the_committed_document_is_the_generated_one(capsys):
    # When the generator compares what it would write with the committed openapi.yaml
    exit_code = generator.main(["--check"])

    # Then they are the same, byte for byte (else: `make openapi`)
    assert exit_code == 0, capsys.readouterr().err


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


def test_no_mapping_says_the_same_key_twice():
    # Given a YAML reader that sees every key of every mapping (PyYAML keeps the last silently)
    repeated: list[str] = []

    class Strict(yaml.SafeLoader):
        pass

    def mapping(loader: yaml.SafeLoader, node: yaml.MappingNode) -> dict[object, object]:
        seen: set[object] = set()
        for key_node, _ in node.value:
            key = loader.construct_object(key_node)
            if key in seen:
                repeated.append(f"{key} at line {key_node.start_mark.line + 1}")
            seen.add(key)
        return yaml.SafeLoader.construct_mapping(loader, node)

    Strict.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, mapping)

    # When openapi.yaml and the overlay it is generated from are read
    yaml.load(DOCUMENT.read_text(), Strict)
    yaml.load(OVERLAY.read_text(), Strict)

    # Then no operation, schema or field is said twice (a second one would hide the first)
    assert repeated == []
