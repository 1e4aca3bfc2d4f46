"""The shape of the code: every route declares what it requires, and no module imports itself
back through others."""

from __future__ import annotations

import grimp

import app as app_module
from shared.domain.access import Action
from shared.http.routing import Requirement, Routes

PACKAGES = ("shared", "functions", "infra")


def test_every_route_declares_what_it_requires():
    # Given every route the app serves
    served = {
        (path, method) for path, by_method in app_module.app.routes.items() for method in by_method
    }

    # When the declarations of its blueprints are collected
    declared = {
        route: requires
        for blueprint in app_module.BLUEPRINTS
        for route, requires in blueprint.declared.items()
    }

    # Then each route is a blueprint's that declared an action or a named requirement
    assert len(served) > 60
    assert served == set(declared)
    assert all(isinstance(r, Action | Requirement) for r in declared.values())
    assert all(isinstance(b, Routes) for b in app_module.BLUEPRINTS)


def test_a_route_without_a_declaration_is_refused_when_it_is_written():
    routes = Routes(__name__)
    try:
        routes.route("/nowhere", methods=["GET"])
    except TypeError as error:
        assert "requires" in str(error)
    else:
        raise AssertionError("a route without requires= was accepted")


def test_no_module_imports_itself_back():
    # Given the import graph of the project's packages (imports inside functions included)
    graph = grimp.build_graph(*PACKAGES, include_external_packages=True, cache_dir=None)
    internal = {m for m in graph.modules if m.split(".")[0] in PACKAGES}

    # Then no module reaches itself again, and none imports the composition root (app.py)
    cycles = [
        (module, imported)
        for module in internal
        for imported in graph.find_modules_directly_imported_by(module)
        if imported in internal
        and imported != module
        and graph.chain_exists(importer=imported, imported=module)
    ]
    assert cycles == []
    assert "app" not in graph.modules


def test_use_cases_are_free_of_http():
    # Given the import graph of the use cases (imports inside functions included)
    graph = grimp.build_graph("functions", "shared", include_external_packages=True, cache_dir=None)
    use_cases = {
        module
        for module in graph.modules
        if module.startswith("functions.")
        and module.rsplit(".", 1)[-1] not in ("routes", "triggers")
    }

    # Then none imports the HTTP layer or the web framework
    speaking = {
        module
        for module in use_cases
        for imported in graph.find_modules_directly_imported_by(module)
        if imported == "chalice" or imported.startswith(("shared.http", "chalice."))
    }
    assert sorted(speaking) == []
