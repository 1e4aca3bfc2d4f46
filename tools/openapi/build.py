"""The document: the overlay's authored text merged with what the routes and models declare."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from shared.http.routing import Requires
from tools.openapi import access, models

ROOT = Path(__file__).resolve().parents[2]
OVERLAY = Path(__file__).with_name("overlay.yaml")
DOCUMENT = ROOT / "openapi.yaml"
# On a schema written by hand although a model of its name exists: the model, and how the
# schema's properties differ from its fields (tests/unit/test_openapi_fields.py checks them).
FIELDS = "x-fields"


class OverlayError(ValueError):
    """The overlay disagrees with the code (an operation without a route, a derived part...)."""


class _Strict(yaml.SafeLoader):
    """A YAML reader refusing a key said twice in one mapping (PyYAML keeps the last silently)."""


def _mapping(loader: _Strict, node: yaml.MappingNode) -> dict[Any, Any]:
    seen: set[Any] = set()
    for key_node, _ in node.value:
        key = loader.construct_object(key_node)
        if key in seen:
            raise OverlayError(f"{key} is said twice at line {key_node.start_mark.line + 1}")
        seen.add(key)
    return yaml.SafeLoader.construct_mapping(loader, node)


_Strict.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _mapping)


def read(path: Path) -> Any:
    return yaml.load(path.read_text(), _Strict)  # noqa: S506 (a SafeLoader)


def declared_routes() -> dict[tuple[str, str], Requires]:
    """Every route the app serves, (path, METHOD) -> what it requires."""
    import app

    return {route: req for bp in app.BLUEPRINTS for route, req in bp.declared.items()}


def _status_order(code: str) -> tuple[int, str]:
    return (1, code) if code == "default" else (0, code)


def operation(where: str, authored: dict[str, Any], requires: Requires) -> dict[str, Any]:
    """The authored operation with the ``security`` and 401/403 its ``requires`` give."""
    if "operationId" not in authored:
        raise OverlayError(f"{where} has no operationId")
    refusals = access.refusals(requires)
    stated = authored["responses"]
    if "401" in stated and "401" not in refusals:
        raise OverlayError(f"{where} answers 401, but its requires= admits anyone")
    for code in refusals:
        if stated.get(code) == access.PROBLEM:
            raise OverlayError(f"{where}: a plain {code} follows from requires=; remove it")
    merged: dict[str, Any] = {}
    for key, value in authored.items():
        merged[key] = value
        if key == "operationId" and (security := access.security(requires)) is not None:
            merged["security"] = security
    responses = {**refusals, **stated}
    merged["responses"] = {code: responses[code] for code in sorted(responses, key=_status_order)}
    return merged


def paths(authored: dict[str, Any], routes: dict[tuple[str, str], Requires]) -> dict[str, Any]:
    written = {(path, method.upper()) for path, item in authored.items() for method in item}
    if unwritten := sorted(set(routes) - written):
        raise OverlayError(f"routes without an operation in the overlay: {unwritten}")
    if unrouted := sorted(written - set(routes)):
        raise OverlayError(f"operations in the overlay without a route: {unrouted}")
    return {
        path: {
            method: operation(f"{method.upper()} {path}", op, routes[(path, method.upper())])
            for method, op in item.items()
        }
        for path, item in authored.items()
    }


def _rules(node: Any, names: bool = False) -> Any:
    """A schema without its prose: what it admits (``names``: a mapping of property names)."""
    if isinstance(node, dict):
        return {
            k: _rules(v, not names and k == "properties")
            for k, v in node.items()
            if names or k not in models.NOTES
        }
    return [_rules(v) for v in node] if isinstance(node, list) else node


def _entry(name: str, schema: Any) -> dict[str, Any]:
    if models.is_derived(schema):
        return models.generate(name, schema)
    if isinstance(schema, dict) and FIELDS in schema:  # for the tests, not the document
        return {name: {key: value for key, value in schema.items() if key != FIELDS}}
    return {name: schema}


def schemas(authored: dict[str, Any]) -> dict[str, Any]:
    """The overlay's schemas, a model's in its place with those it refers to before it; one the
    overlay names too stands where the overlay has it, with its prose, if it admits the same."""
    merged: dict[str, Any] = {}
    for name, schema in authored.items():
        for each, generated in _entry(name, schema).items():
            if each != name and each in authored:
                if _rules(_entry(each, authored[each])[each]) != _rules(generated):
                    raise OverlayError(f"schema {each} is not what the model {name} refers to")
                continue
            if merged.get(each, generated) != generated:
                raise OverlayError(f"schema {each} is written twice, differently")
            merged[each] = generated
    return merged


def document(overlay: dict[str, Any]) -> dict[str, Any]:
    components = overlay["components"]
    return {
        **overlay,
        "paths": paths(overlay["paths"], declared_routes()),
        "components": {**components, "schemas": schemas(components["schemas"])},
    }
