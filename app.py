"""The Chalice app: every trigger of the system is declared here, and each handler stays thin.

Handlers parse the trigger, call one use case in functions/, and shape the answer. Use cases are
imported inside the handler, so each Lambda's cold start imports only what it runs.
"""

from __future__ import annotations

import json
from typing import Any, TypeVar

from chalice import ConvertToMiddleware, Rate, Response
from chalice.app import Chalice, Request
from pydantic import BaseModel

from shared.http import problems
from shared.observability import logger, metrics, tracer

Model = TypeVar("Model", bound=BaseModel)

app = Chalice(app_name="otc")
app.register_middleware(ConvertToMiddleware(logger.inject_lambda_context))
app.register_middleware(ConvertToMiddleware(tracer.capture_lambda_handler))
app.register_middleware(ConvertToMiddleware(metrics.log_metrics))

# Placeholder the packaging merge replaces with the table's real stream ARN (GetAtt).
TABLE_STREAM = "arn:aws:dynamodb:us-east-1:000000000000:table/otc-table/stream/LATEST"


@app.middleware("http")
def problem_details(request: Any, get_response: Any) -> Response:
    """Every error leaves as application/problem+json, whoever raised it."""
    try:
        response = get_response(request)
    except problems.Problem as problem:
        return _problem_response(problem, request.path)
    if response.status_code >= 400 and not response.headers.get("Content-Type", "").startswith(
        problems.CONTENT_TYPE
    ):
        return _problem_response(
            problems.from_framework(response.status_code, response.body), request.path
        )
    return response


def _problem_response(problem: problems.Problem, path: str) -> Response:
    return Response(
        body=json.dumps(problem.body(instance=path)),
        status_code=problem.status,
        headers={"Content-Type": problems.CONTENT_TYPE, **problem.headers},
    )


def _request() -> Request:
    request = app.current_request
    assert request is not None, "only called while handling an HTTP request"
    return request


def _json(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(
        body=json.dumps(body),
        status_code=status,
        headers={"Content-Type": "application/json", **(headers or {})},
    )


# --- HTTP -----------------------------------------------------------------------------------


@app.route("/health", methods=["GET"])
def health() -> Response:
    return _json({"status": "ok"})


def _principal() -> Any:
    from shared.http import auth

    return auth.authenticate(_request().headers)


def _body(model: type[Model]) -> Model:
    from shared.http import body

    return body.parse(_request().raw_body, model)


def _idempotent(operation: str, principal: Any, payload: BaseModel, run: Any) -> Response:
    """Run a POST once per Idempotency-Key; a retry gets the first answer again."""
    from shared.http import idempotency

    request = _request()
    key = idempotency.require_key(request.headers)
    answer = idempotency.once(
        operation,
        principal.principal_id,
        key,
        payload.model_dump_json().encode(),
        run,
        lambda_context=app.lambda_context,
    )
    return _json(answer["body"], answer["status"], answer.get("headers"))


# --- HTTP: orders ---------------------------------------------------------------------------


@app.route("/orders", methods=["POST"])
def post_order() -> Response:
    from functions.orders.place_order import place_order
    from shared.domain.order import OrderRequest
    from shared.http.auth import Action

    principal = _principal()
    principal.require(Action.PLACE_ORDERS)
    order_request = _body(OrderRequest)

    def place() -> dict[str, Any]:
        order = place_order(order_request, principal)
        metrics.add_metric(name="OrdersPlaced", unit="Count", value=1)
        return {
            "status": 201,
            "body": order.to_wire(),
            "headers": {"Location": f"/orders/{order.order_id}"},
        }

    return _idempotent("orders.place", principal, order_request, place)


@app.route("/orders/{order_id}", methods=["GET"])
def get_order(order_id: str) -> Response:
    from functions.orders.get_order import get_order
    from shared.http.auth import Action

    principal = _principal()
    principal.require(Action.READ)
    return _json(get_order(order_id, principal).to_wire())


# --- HTTP: accounts (customers, partners, staff, API keys) ----------------------------------


# --- HTTP: catalog and stock ----------------------------------------------------------------


# --- HTTP: partner webhooks -----------------------------------------------------------------


# --- HTTP: data migration -------------------------------------------------------------------


# --- Events: EventBridge -> SQS -> Lambda -----------------------------------------------------


@app.on_sqs_message(queue="order-confirmation", batch_size=10)
def confirm_orders(event: Any) -> dict[str, Any]:
    from functions.orders.confirm_order import confirm_received_order
    from shared.adapters.bus_events import BusEvent, handle_batch

    def confirm(message: BusEvent) -> None:
        confirm_received_order(
            message.detail.metadata.aggregate_id, message.detail.metadata.event_id
        )

    return handle_batch(event.to_dict(), confirm, event.context)


# --- The outbox: table stream -> EventBridge, plus the scheduled sweep --------------------------


@app.on_dynamodb_record(stream_arn=TABLE_STREAM, batch_size=100, starting_position="TRIM_HORIZON")
def publish_events(event: Any) -> dict[str, Any]:
    from functions.outbox.publish_events import publish_stream_batch

    retry = publish_stream_batch(event.to_dict()["Records"])
    return {"batchItemFailures": [{"itemIdentifier": sequence} for sequence in retry]}


@app.schedule(Rate(5, unit=Rate.MINUTES), description="Republish events the stream path missed")
def sweep_outbox(event: Any) -> dict[str, Any]:
    from functions.outbox.sweep_outbox import sweep

    return sweep().model_dump()
