"""Assertions and views of the table that several functional test modules share."""

from __future__ import annotations

import json
from typing import Any

from tests.functional.conftest import World

PROBLEM = "application/problem+json"


def snapshot(world: World) -> list[dict[str, Any]]:
    """Every item, in key order: equal snapshots mean nothing was written."""
    return sorted(world.table_items(), key=lambda item: (item["pk"], item["sk"]))


def events(world: World, detail_type: str) -> list[dict[str, Any]]:
    """The data of every event of that type written so far."""
    return [
        json.loads(item["detail"])["data"]
        for item in world.table_items()
        if item.get("entity") == "Event" and item["detail_type"] == detail_type
    ]


def assert_problem(response: Any, status: int, kind: str) -> dict[str, Any]:
    """The response is an RFC 9457 problem of that status and kind; returns its body."""
    assert response.status_code == status, response.body
    assert response.headers["Content-Type"] == PROBLEM
    problem = json.loads(response.body)
    assert problem["type"].endswith("/" + kind), problem
    assert problem["status"] == status and problem["detail"]
    return problem


def assert_problem_answer(answer: Any, status: int, kind: str) -> dict[str, Any]:
    """``assert_problem`` for an ``accounts.call`` answer (its body already parsed)."""
    assert answer.status == status, answer.body
    assert answer.headers["Content-Type"] == PROBLEM
    assert answer.body["type"].endswith("/" + kind), answer.body
    found: dict[str, Any] = answer.body
    return found


def conforms_to_openapi(instance: Any, schema: str) -> None:
    """Validate an answer against a schema of openapi.yaml (JSON Schema 2020-12 in OAS 3.1):
    ``schema`` names one of components/schemas, or is a JSON pointer ("#/paths/...")."""
    from pathlib import Path

    import yaml
    from jsonschema import Draft202012Validator
    from referencing import Registry, Resource
    from referencing.jsonschema import DRAFT202012

    spec = yaml.safe_load((Path(__file__).resolve().parents[2] / "openapi.yaml").read_text())
    resource = Resource.from_contents(spec, default_specification=DRAFT202012)
    registry: Registry[Any] = Registry().with_resource("urn:otc:openapi", resource)
    pointer = schema if schema.startswith("#/") else f"#/components/schemas/{schema}"
    reference = {"$ref": f"urn:otc:openapi{pointer}"}
    Draft202012Validator(reference, registry=registry).validate(instance)
