"""HTTP routes of customer credits: list them and the charges, apply credits, pay them back."""

from __future__ import annotations

from typing import TYPE_CHECKING

from chalice import Response

from shared.domain.access import Action
from shared.http.routing import Answer, Routes, json_response

if TYPE_CHECKING:
    from shared.http.auth import Principal

routes = Routes(__name__)


@routes.route("/customers/{customer_id}/credits", methods=["GET"], requires=Action.READ)
def list_customer_credits(customer_id: str, principal: Principal) -> Response:
    from functions.credits.list_credits import list_credits

    return json_response(list_credits(customer_id, principal))


@routes.route("/customers/{customer_id}/charges", methods=["GET"], requires=Action.READ)
def list_customer_charges(customer_id: str, principal: Principal) -> Response:
    from functions.credits.list_charges import ChargeQuery, list_charges

    query = routes.query(ChargeQuery)
    return json_response(list_charges(customer_id, principal, only_open=query.status == "open"))


@routes.route(
    "/customers/{customer_id}/credits/applications", methods=["POST"], requires=Action.APPLY_CASH
)
def post_credit_application(customer_id: str, principal: Principal) -> Response:
    from functions.credits.apply_credit import CreditApplicationRequest, apply_credit

    request = routes.json_body(CreditApplicationRequest)

    def run() -> Answer:
        return {"status": 201, "body": apply_credit(customer_id, request, principal)}

    return routes.once(f"credits.apply.{customer_id}", principal, request, run)


@routes.route(
    "/customers/{customer_id}/credits/refunds", methods=["POST"], requires=Action.APPLY_CASH
)
def post_credit_refund(customer_id: str, principal: Principal) -> Response:
    from functions.credits.refund_credit import CreditRefundRequest, refund_credit

    request = routes.json_body(CreditRefundRequest)

    def run() -> Answer:
        return refund_credit(customer_id, request, principal)

    return routes.once(f"credits.refund.{customer_id}", principal, request, run)
