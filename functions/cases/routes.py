"""HTTP routes of customer cases: partners and staff open them, staff answer and resolve."""

from __future__ import annotations

from typing import TYPE_CHECKING
from urllib.parse import urlencode

from chalice import Response

from shared.domain.access import Action
from shared.http.routing import Requirement, Routes, json_response, partner_itself_or, staff

if TYPE_CHECKING:
    from chalice.app import Request

    from shared.http.auth import Principal

routes = Routes(__name__)
STAFF = staff(Action.MANAGE_CASES, "work on customer cases")


@routes.route("/cases", methods=["POST"], requires=partner_itself_or(Action.MANAGE_CASES))
def post_case(principal: Principal) -> Response:
    from functions.cases.open_case import CaseRequest, open_case

    body = routes.json_body(CaseRequest)
    return routes.once(
        "open-case", principal, body, lambda: {"status": 201, "body": open_case(body, principal)}
    )


@routes.route("/cases", methods=["GET"], requires=STAFF)
def get_cases(principal: Principal) -> Response:
    from functions.cases.read import CaseQuery, list_cases

    return json_response(list_cases(routes.query(CaseQuery), principal))


@routes.route("/cases/{case_id}", methods=["GET"], requires=STAFF)
def get_case(case_id: str, principal: Principal) -> Response:
    from functions.cases.read import get_case as read_case

    return json_response(read_case(case_id, principal))


@routes.route("/cases/{case_id}", methods=["PATCH"], requires=STAFF)
def patch_case(case_id: str, principal: Principal) -> Response:
    from functions.cases.reassign import CasePatch, reassign

    return json_response(reassign(case_id, routes.json_body(CasePatch), principal))


@routes.route("/cases/{case_id}/messages", methods=["POST"], requires=STAFF)
def post_case_message(case_id: str, principal: Principal) -> Response:
    from functions.cases.messages import MessageRequest, answer

    body = routes.json_body(MessageRequest)
    return routes.once(
        "answer-case",
        principal,
        body,
        lambda: {"status": 201, "body": answer(case_id, body, principal)},
    )


@routes.route("/cases/{case_id}/resolution", methods=["POST"], requires=STAFF)
def post_case_resolution(case_id: str, principal: Principal) -> Response:
    from functions.cases.resolve import ResolutionRequest, resolve

    body = routes.json_body(ResolutionRequest)
    return routes.once(
        "resolve-case",
        principal,
        body,
        lambda: {"status": 200, "body": resolve(case_id, body, principal)},
    )


def _survey_token(request: Request) -> str | None:
    query: dict[str, str] = dict(request.query_params or {})
    return query.get("token")


def _survey_link(request: Request) -> None:
    """The holder of a valid survey link of this case (401 without a token, 403 a bad one)."""
    from functions.cases.survey import admit
    from shared import errors, payloads
    from shared.http import forms, problems

    # The body's media type is judged first, as on every route taking JSON (a link is no key);
    # the survey page's form posts as browsers do.
    content_type = request.headers.get("Content-Type")
    if request.raw_body and not (payloads.is_json(content_type) or forms.is_form(content_type)):
        raise problems.unsupported_media_type(content_type)
    params: dict[str, str] = dict(request.uri_params or {})
    with problems.as_page(errors.Unauthenticated, errors.Forbidden):  # a browser opens the link
        admit(params.get("case_id", ""), _survey_token(request))


SURVEY_LINK = Requirement("survey-link", _survey_link, api_key="none")
SURVEY = "/cases/{case_id}/survey"


@routes.route(SURVEY, methods=["GET"], requires=SURVEY_LINK)
def get_case_survey(case_id: str) -> Response:
    from functions.cases.survey import admit
    from functions.rendering.html_pages import page
    from shared.http import pages, problems

    token = _survey_token(routes.request) or ""
    with problems.as_page():
        case = admit(case_id, token)
    form = page("survey.html", case=case, action=f"survey?{urlencode({'token': token})}")
    return Response(body=form, status_code=200, headers=pages.PORTAL_HEADERS)


@routes.route(
    SURVEY,
    methods=["POST"],
    requires=SURVEY_LINK,
    content_types=["application/json", "application/x-www-form-urlencoded"],
)
def post_case_survey(case_id: str) -> Response:
    from functions.cases.survey import FORM_FIELDS, SurveyAnswer, answer, from_form
    from functions.rendering.html_pages import page
    from shared.http import forms, pages, problems

    request, token = routes.request, _survey_token(routes.request)
    if not forms.is_form(request.headers.get("Content-Type")):
        return json_response(answer(case_id, token, routes.json_body(SurveyAnswer)), 201)
    form = forms.read(request.raw_body, max_fields=len(FORM_FIELDS) + 1, strict=True)
    with problems.as_page():  # the survey page's form: a browser reads the answer
        given = answer(case_id, token, from_form(form))
    thanks = page("survey_thanks.html", answer=given)
    return Response(body=thanks, status_code=201, headers=pages.HEADERS)


@routes.route("/reports/service", methods=["GET"], requires=Action.READ_REPORTS)
def get_service_report() -> Response:
    from functions.cases.service_report import ServiceQuery, service_report

    return json_response(service_report(routes.query(ServiceQuery)))
