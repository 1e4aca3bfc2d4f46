"""The customer portal's pages render in Lambda: their templates and Jinja2 ship in the zip."""

from __future__ import annotations

import zipfile

from tests.infra.conftest import Packaged


def test_the_portal_template_and_its_engine_ship_in_the_code_zip(packaged: Packaged) -> None:
    # Given the deployment zip
    with zipfile.ZipFile(packaged.code) as code:
        names = set(code.namelist())
        template = code.read("functions/portal/templates/portal.html").decode()

    # Then the page's template sits next to the module that renders it, with its engine
    assert "functions/portal/render.py" in names
    # ...and so do the layout every page extends, the invoice page and the survey's pages
    assert "functions/rendering/html_pages.py" in names
    for page in (
        "functions/portal/templates/base.html",
        "functions/portal/templates/invoice.html",
        "functions/cases/templates/survey.html",
        "functions/cases/templates/survey_thanks.html",
    ):
        assert page in names, page
    assert "{{ portal.customer_name }}" in template and "<script" not in template
    assert "jinja2/__init__.py" in names
    assert "markupsafe/__init__.py" in names


def test_the_lakes_sql_ships_beside_the_code_that_runs_it(packaged: Packaged) -> None:
    # Given the deployment zip
    with zipfile.ZipFile(packaged.code) as code:
        names = set(code.namelist())

    # Then every query and fragment the nightly snapshot and the reports run on Athena is there
    from shared.lake import queries

    for name in (*queries.QUERIES, "_open_items", "_customer_names"):
        assert f"shared/lake/sql/{name}.sql" in names, name
