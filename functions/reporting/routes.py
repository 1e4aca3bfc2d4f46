"""HTTP routes of reporting: AR aging, KPIs, and the finance dashboard with its signed links."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from chalice import Response
from chalice.app import Request

from shared.domain.access import Action
from shared.http import negotiation
from shared.http.routing import Requirement, Routes, admit, json_response, partner_itself_or

if TYPE_CHECKING:
    from shared.http.auth import Principal

routes = Routes(__name__)


@routes.route("/reports/aging", methods=["GET"], requires=Action.READ_REPORTS)
def get_aging_report() -> Response:
    from functions.reporting.exports import aging_sheet
    from functions.reporting.read_reports import AgingQuery, read_aging

    query = routes.query(AgingQuery)
    wanted = negotiation.chosen(query.format, routes.request.headers.get("Accept"))
    return _report(
        read_aging(query), wanted, aging_sheet, lambda answer: f"aging_{answer['as_of']}"
    )


@routes.route("/reports/open-items", methods=["GET"], requires=Action.READ_REPORTS)
def get_open_items() -> Response:
    from functions.reporting.exports import open_items_sheet
    from functions.reporting.read_reports import OpenItemsQuery, read_open_items

    query = routes.query(OpenItemsQuery)
    wanted = negotiation.chosen(query.format, routes.request.headers.get("Accept"))
    answer = read_open_items(query)
    return _report(answer, wanted, open_items_sheet, lambda found: f"open_items_{found['as_of']}")


@routes.route("/reports/kpis", methods=["GET"], requires=Action.READ_REPORTS)
def get_kpi_report() -> Response:
    from functions.reporting.exports import kpi_sheet
    from functions.reporting.read_reports import KpiQuery, read_kpis

    query = routes.query(KpiQuery)
    wanted = negotiation.chosen(query.format, routes.request.headers.get("Accept"))
    answer = read_kpis(query)
    return _report(answer, wanted, kpi_sheet, lambda found: f"kpis_{found['from']}_{found['to']}")


@routes.route("/reports/behaviour", methods=["GET"], requires=Action.READ_REPORTS)
def get_behaviour_report() -> Response:
    from functions.reporting.behaviour import BehaviourReportQuery, behaviour_report

    return json_response(behaviour_report(routes.query(BehaviourReportQuery)))


@routes.route(
    "/customers/{customer_id}/behaviour",
    methods=["GET"],
    requires=partner_itself_or(Action.READ_REPORTS),
)
def get_customer_behaviour(customer_id: str, principal: Principal) -> Response:
    from functions.reporting.behaviour import BehaviourQuery, customer_behaviour

    return json_response(customer_behaviour(customer_id, routes.query(BehaviourQuery), principal))


@routes.route("/reports/queries/{query_id}", methods=["GET"], requires=Action.READ_REPORTS)
def get_report_query(query_id: str) -> Response:
    from functions.reporting.read_reports import ReportQuery, read_query

    return _report(read_query(query_id, routes.query(ReportQuery)))


def _report(
    answer: Any,
    wanted: negotiation.Format = "json",
    sheet: Callable[[dict[str, Any]], Any] | None = None,
    name: Callable[[dict[str, Any]], str] | None = None,
) -> Response:
    """A report (200: JSON, or the ``wanted`` download of its ``sheet``), or the lake query
    still computing it (202, Location its status URL)."""
    from functions.reporting.read_reports import Running

    if isinstance(answer, Running):
        headers = {"Location": answer.status_url, "Retry-After": "5"}
        return json_response(answer.to_wire(), 202, headers)
    if wanted == "json" or sheet is None or name is None:
        return json_response(answer)
    return negotiation.file_response(sheet(answer), name(answer), wanted)


def _link_or_staff(_request: Request) -> None:
    """A browser holding a signed link (its token is the credential), or a staff key."""
    from functions.reporting import dashboard

    query = routes.query(dashboard.DashboardQuery)
    if query.token is not None:
        dashboard.check_token(query.token)
    else:
        admit(Action.READ_REPORTS, routes.request)


LINK_OR_STAFF = Requirement("link-or:read_reports", _link_or_staff, api_key="optional")


@routes.route("/dashboard", methods=["GET"], requires=LINK_OR_STAFF)
def get_dashboard() -> Response:
    from functions.reporting import dashboard
    from shared.http import pages

    query = routes.query(dashboard.DashboardQuery)
    return Response(body=dashboard.page(query.as_of), status_code=200, headers=pages.HEADERS)


@routes.route("/dashboard/links", methods=["POST"], requires=Action.READ_REPORTS)
def post_dashboard_link() -> Response:
    from functions.reporting import dashboard

    # The page's absolute URL: asked for on the same host, under the same stage or base path.
    api = routes.base_url(f"{dashboard.PATH}/links")
    page_url = f"{api}{dashboard.PATH}" if api else ""
    # Minting changes nothing (no Idempotency-Key); the link is a bearer token: never cached.
    body = dashboard.link_wire(dashboard.mint_link(), page_url)
    return json_response(body, 201, {"Cache-Control": "no-store"})
