"""Every route checks what it declares before its handler runs: without an API key, every route
but the public ones answers 401 and writes nothing; an auditor's key (it may only read) gets 403
from every route that requires an action it may not perform."""

from __future__ import annotations

import re

from chalice.test import Client

import app as app_module
from shared.domain.access import PERMISSIONS, Action, Role
from shared.http.routing import PUBLIC, Requires
from tests.functional.conftest import World
from tests.functional.helpers import snapshot

AUDITOR_KEY = "otc_test_route_auditor_key_0123456789ab"


def _routes() -> list[tuple[str, str, str, Requires]]:
    """(method, path with its parameters filled in, content type, requirement) of every route."""
    found = []
    for blueprint in app_module.BLUEPRINTS:
        for (template, method), requires in blueprint.declared.items():
            entry = app_module.app.routes[template][method]
            path = re.sub(r"\{(\w+)\}", lambda name: f"x_{name[1]}", template)
            found.append((method, path, entry.content_types[0], requires))
    return sorted(found, key=lambda route: (route[1], route[0]))


def _send(client: Client, method: str, path: str, content_type: str, key: str | None):
    headers = {"Content-Type": content_type, "Idempotency-Key": "route-authorization"}
    if key is not None:
        headers["X-Api-Key"] = key
    return getattr(client.http, method.lower())(path, headers=headers, body=b"{}")


def test_every_route_but_the_public_ones_answers_401_without_a_key(world: World, client: Client):
    # Given every route and the table as it stands
    routes = _routes()
    before = snapshot(world)

    # When each is called without an API key
    answers = {
        (method, path): _send(client, method, path, content_type, None).status_code
        for method, path, content_type, requires in routes
        if requires is not PUBLIC
    }

    # Then each answers 401, and nothing was written
    assert len(answers) > 60
    assert {route: status for route, status in answers.items() if status != 401} == {}
    assert snapshot(world) == before


def test_a_role_gets_403_from_every_route_whose_action_it_may_not_perform(
    world: World, client: Client
):
    # Given an auditor's key (it may read, read reports and the audit trail, nothing else)
    from shared.http.auth import Principal, key_item
    from shared.store import table
    from shared.store.table import Put

    auditor = Principal(principal_id="stf_route_auditor", role=Role.AUDITOR)
    table.transact([Put.new(key_item(AUDITOR_KEY, auditor))])
    refused = [
        (method, path, content_type)
        for method, path, content_type, requires in _routes()
        if isinstance(requires, Action) and requires not in PERMISSIONS[Role.AUDITOR]
    ]
    before = snapshot(world)

    # When the auditor calls each route that requires another action
    answers = {
        (method, path): _send(client, method, path, content_type, AUDITOR_KEY).status_code
        for method, path, content_type in refused
    }

    # Then each answers 403 before its handler reads anything, and nothing was written
    assert len(refused) > 30
    assert {route: status for route, status in answers.items() if status != 403} == {}
    assert snapshot(world) == before
