"""HTTP routes of payments: gateway webhooks, bank statements, manual payments, the worklist,
manual allocations and their reversals.

The webhook routes take no API key: the gateway's signature, checked by the use case,
authenticates each request.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from chalice import Response

from shared.domain.access import Action
from shared.http.routing import PUBLIC, Answer, Routes, json_response, staff

if TYPE_CHECKING:
    from shared.http.auth import Principal

routes = Routes(__name__)


@routes.route("/webhooks/stripe", methods=["POST"], requires=PUBLIC)
def post_stripe_webhook() -> Response:
    from functions.payments.receive_webhook import receive_stripe
    from shared import actor

    request = routes.request
    actor.set_actor("gateway:stripe")  # the signature, checked next, is the only credential
    return json_response(receive_stripe(request.raw_body, request.headers))


@routes.route("/webhooks/{provider}", methods=["POST"], requires=PUBLIC)
def post_gateway_webhook(provider: str) -> Response:
    from functions.payments.receive_webhook import receive_generic
    from shared import actor

    request = routes.request
    actor.set_actor(f"gateway:{provider}")  # the signature, checked next, is the only credential
    return json_response(receive_generic(provider, request.raw_body, request.headers))


@routes.route(
    "/bank-statements",
    methods=["POST"],
    content_types=["application/xml", "text/xml"],
    requires=Action.RECORD_PAYMENTS,
)
def post_bank_statement(principal: Principal) -> Response:
    from functions.payments import queue_statement
    from functions.payments.import_statement import import_statement, receive

    upload = receive(routes.request.raw_body)

    def run() -> Answer:
        if queue_statement.wanted(upload):
            queued = queue_statement.queue_statement(upload, by=principal.principal_id)
            headers = {"Location": queued.location}
            return {"status": queued.status, "body": queued.body, "headers": headers}
        imported = import_statement(upload, by=principal.principal_id)
        return {"status": 201 if imported.first else 200, "body": imported.summary}

    return routes.once("payments.statement", principal, upload.fingerprint, run)


@routes.route("/bank-statements/{statement_ref}", methods=["GET"], requires=Action.RECORD_PAYMENTS)
def get_bank_statement(statement_ref: str) -> Response:
    from functions.payments.get_statement import get_statement

    return json_response(get_statement(statement_ref), headers={"Cache-Control": "no-store"})


@routes.route("/payments", methods=["POST"], requires=Action.RECORD_PAYMENTS)
def post_payment(principal: Principal) -> Response:
    from functions.payments.record_manual_payment import (
        ManualPaymentRequest,
        record_manual_payment,
    )

    request = routes.json_body(ManualPaymentRequest)

    def record() -> Answer:
        payment = record_manual_payment(request, principal)
        location = f"/payments/{payment.payment_id}"
        return {"status": 201, "body": payment.to_wire(), "headers": {"Location": location}}

    return routes.once("payments.record", principal, request, record)


@routes.route("/payments/{payment_id}", methods=["GET"], requires=Action.READ)
def get_payment(payment_id: str, principal: Principal) -> Response:
    from functions.payments.get_payment import get_payment

    return json_response(get_payment(payment_id, principal))


# --- cash application (the worklist, manual allocations, reversals) ------------------------------


@routes.route("/payments", methods=["GET"], requires=staff(Action.READ, "list payments"))
def list_payments() -> Response:
    from functions.payments.worklist import WorklistQuery, list_payments

    return json_response(list_payments(routes.query(WorklistQuery)))


@routes.route("/payments/{payment_id}/allocations", methods=["POST"], requires=Action.APPLY_CASH)
def post_payment_allocations(payment_id: str, principal: Principal) -> Response:
    from functions.payments.allocate_manually import AllocationRequest, allocate_manually

    request = routes.json_body(AllocationRequest)

    def run() -> Answer:
        return {"status": 201, "body": allocate_manually(payment_id, request, principal)}

    return routes.once(f"payments.allocate.{payment_id}", principal, request, run)


@routes.route(
    "/payments/{payment_id}/allocations/{allocation_id}/reversal",
    methods=["POST"],
    requires=Action.APPLY_CASH,
)
def post_allocation_reversal(payment_id: str, allocation_id: str, principal: Principal) -> Response:
    from functions.payments.unapply import ReversalRequest, unapply_allocation

    request = routes.json_body(ReversalRequest)

    def run() -> Answer:
        return {
            "status": 200,
            "body": unapply_allocation(payment_id, allocation_id, request, principal),
        }

    return routes.once(f"payments.unapply.{payment_id}.{allocation_id}", principal, request, run)
