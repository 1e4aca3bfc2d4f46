"""HTTP routes of the customer portal: staff issue and revoke links; a link opens the pages.

The pages' credential is the link's token, always in the query string (see docs/portal.md for
why not a cookie); the requirement checks it before the handler runs, and every problem on a
page answers as an HTML page to a browser (problem+json to any other client).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from chalice import Response
from chalice.app import Request

from shared.domain.access import Action
from shared.http.routing import Requirement, Routes, json_response

if TYPE_CHECKING:
    from shared.http.auth import Principal

routes = Routes(__name__)


@routes.route(
    "/customers/{customer_id}/portal-links", methods=["POST"], requires=Action.MANAGE_CUSTOMERS
)
def post_portal_link(customer_id: str) -> Response:
    from functions.portal.links import LinkRequest, issue_link

    url = routes.base_url(f"/customers/{customer_id}/portal-links")
    # Issuing changes nothing stored (no Idempotency-Key); the link is a bearer token.
    body = issue_link(customer_id, routes.json_body(LinkRequest), url)
    return json_response(body, 201, {"Cache-Control": "no-store"})


@routes.route(
    "/customers/{customer_id}/portal-links", methods=["DELETE"], requires=Action.MANAGE_CUSTOMERS
)
def delete_portal_links(customer_id: str) -> Response:
    from functions.portal.links import revoke_links

    return json_response(revoke_links(customer_id))


def _link_holder(request: Request) -> Principal:
    """The holder of a valid link to this customer's portal (403 page otherwise)."""
    from functions.portal.links import admit
    from shared.http import problems

    params: dict[str, str] = dict(request.uri_params or {})
    with problems.as_page():
        principal, _ = admit(params.get("customer_id", ""), _token(request))
    return principal


def _token(request: Request) -> str | None:
    query: dict[str, str] = dict(request.query_params or {})
    return query.get("token")


LINK = Requirement("portal-link", _link_holder, api_key="none")


@routes.route("/portal/{customer_id}", methods=["GET"], requires=LINK)
def get_portal(customer_id: str, principal: Principal) -> Response:
    from functions.portal import links, render, view
    from shared.http import pages, problems

    token = _token(routes.request) or ""
    with problems.as_page():
        _, grant = links.admit(customer_id, token)
        returned = dict(routes.request.query_params or {}).get("checkout")
        page = render.render(view.gather(customer_id, principal, grant.subject), token, returned)
    return Response(body=page, status_code=200, headers=pages.PORTAL_HEADERS)


@routes.route("/portal/{customer_id}/invoices/{invoice_id}", methods=["GET"], requires=LINK)
def get_portal_invoice(customer_id: str, invoice_id: str, principal: Principal) -> Response:
    from functions.portal import render, view
    from shared.http import pages, problems

    with problems.as_page():
        invoice, grosses = view.invoice_page(invoice_id, principal)
        page = render.render_invoice(invoice, grosses, _token(routes.request) or "")
    return Response(body=page, status_code=200, headers=pages.PORTAL_HEADERS)


DOCUMENT = "/portal/{customer_id}/invoices/{invoice_id}/document"


@routes.route(DOCUMENT, methods=["GET"], requires=LINK)
def get_portal_document(customer_id: str, invoice_id: str, principal: Principal) -> Response:
    from functions.invoicing.document_link import DocumentQuery, document_link
    from functions.portal.links import DocumentQuery as PortalDocumentQuery
    from shared.http import pages, problems

    with problems.as_page():
        wanted = routes.query(PortalDocumentQuery)
        link = document_link(invoice_id, DocumentQuery(format=wanted.format), principal)
    return Response(body="", status_code=303, headers={**pages.HEADERS, "Location": link["url"]})


CHECKOUT = "/portal/{customer_id}/checkout"


@routes.route(
    CHECKOUT,
    methods=["POST"],
    requires=LINK,
    content_types=["application/x-www-form-urlencoded"],
)
def post_portal_checkout(customer_id: str, principal: Principal) -> Response:
    from urllib.parse import quote, urlencode

    from functions.portal.checkout import MAX_FIELDS, invoice_ids, start_checkout
    from shared.config import settings
    from shared.http import forms, pages, problems

    request = routes.request
    with problems.as_page():
        wanted = invoice_ids(forms.read(request.raw_body, max_fields=MAX_FIELDS))
        suffix = CHECKOUT.replace("{customer_id}", customer_id)
        api = routes.base_url(suffix) or settings().public_api_url
        page = f"{api}/portal/{quote(customer_id, safe='')}?{urlencode({'token': _token(request)})}"
        url = start_checkout(customer_id, wanted, principal, page_url=page)
    return Response(body="", status_code=303, headers={**pages.HEADERS, "Location": url})


@routes.route(
    "/portal/{customer_id}/cases",
    methods=["POST"],
    requires=LINK,
    content_types=["application/x-www-form-urlencoded", "application/json"],
)
def post_portal_case(customer_id: str, principal: Principal) -> Response:
    from urllib.parse import quote, urlencode

    from functions.cases.portal_form import MAX_FIELDS, open_from_portal
    from functions.portal import links
    from shared.http import forms, pages, problems

    request = routes.request
    token = _token(request) or ""
    content_type = request.headers.get("Content-Type")
    with problems.as_page():
        _, grant = links.admit(customer_id, token)
        if not forms.is_form(content_type):
            raise problems.unsupported_media_type(content_type)
        form = forms.read(request.raw_body, max_fields=MAX_FIELDS, strict=True)
        open_from_portal(customer_id, form, principal, grant.subject)
    back = f"../{quote(customer_id, safe='')}?{urlencode({'token': token})}#cases"
    return Response(body="", status_code=303, headers={**pages.HEADERS, "Location": back})
