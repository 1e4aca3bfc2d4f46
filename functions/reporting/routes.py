"""HTTP routes of reporting: AR aging, KPIs, and the finance dashboard with its signed links."""

from __future__ import annotations

from typing import Any

from chalice import Response
from chalice.app import Request

from shared.domain.access import Action
from shared.http.routing import Requirement, Routes, admit, json_response

routes = Routes(__name__)


@routes.route("/reports/aging", methods=["GET"], requires=Action.READ_REPORTS)
def get_aging_report() -> Response:
    from functions.reporting.read_reports import AgingQuery, read_aging

    return _report(read_aging(routes.query(AgingQuery)))


@routes.route("/reports/kpis", methods=["GET"], requires=Action.READ_REPORTS)
def get_kpi_report() -> Response:
    from functions.reporting.read_reports import KpiQuery, read_kpis

    return _report(read_kpis(routes.query(KpiQuery)))


@routes.route("/reports/queries/{query_id}", methods=["GET"], requires=Action.READ_REPORTS)
def get_report_query(query_id: str) -> Response:
    from functions.reporting.read_reports import ReportQuery, read_query

    return _report(read_query(query_id, routes.query(ReportQuery)))


def _report(answer: Any) -> Response:
    """A report (200), or the lake query still computing it (202, Location its status URL)."""
    from functions.reporting.read_reports import Running

    if isinstance(answer, Running):
        headers = {"Location": answer.status_url, "Retry-After": "5"}
        return json_response(answer.to_wire(), 202, headers)
    return json_response(answer)


def _link_or_staff(_request: Request) -> None:
    """A browser holding a signed link (its token is the credential), or a staff key."""
    from functions.reporting import dashboard

    query = routes.query(dashboard.DashboardQuery)
    if query.token is not None:
        dashboard.check_token(query.token)
    else:
        admit(Action.READ_REPORTS, routes.request)


@routes.route(
    "/dashboard", methods=["GET"], requires=Requirement("link-or:read_reports", _link_or_staff)
)
def get_dashboard() -> Response:
    from functions.reporting import dashboard

    query = routes.query(dashboard.DashboardQuery)
    return Response(body=dashboard.page(query.as_of), status_code=200, headers=dashboard.HEADERS)


@routes.route("/dashboard/links", methods=["POST"], requires=Action.READ_REPORTS)
def post_dashboard_link() -> Response:
    from functions.reporting import dashboard

    request = routes.request
    page_url = dashboard.page_url(request.headers, request.context)
    # Minting changes nothing (no Idempotency-Key); the link is a bearer token: never cached.
    body = dashboard.link_wire(dashboard.mint_link(), page_url)
    return json_response(body, 201, {"Cache-Control": "no-store"})
