"""HTTP routes of customer cases: partners and staff open them, staff answer and resolve."""

from __future__ import annotations

from typing import TYPE_CHECKING

from chalice import Response

from shared.domain.access import Action
from shared.http.routing import Routes, json_response, partner_itself_or, staff

if TYPE_CHECKING:
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
