"""The composition root: the Chalice app, its middleware, one Blueprint per bounded context (the
HTTP routes, in functions/<context>/routes.py) and the wiring of every other trigger.

Handlers import their use cases inside the handler, so each Lambda's cold start imports only what
it runs; a route module imports only chalice and the light shared.http.routing at module level.
"""

from __future__ import annotations

import json
from typing import Any

from chalice import ConvertToMiddleware, Cron, Rate, Response
from chalice.app import Chalice

from functions.accounts.routes import routes as accounts
from functions.audit.routes import routes as audit
from functions.catalog.routes import routes as catalog
from functions.collections.routes import routes as collections
from functions.credits.routes import routes as credits
from functions.imports.routes import routes as imports
from functions.invoicing.routes import routes as invoicing
from functions.ledger.routes import routes as ledger
from functions.orders.routes import routes as orders
from functions.payments.routes import routes as payments
from functions.reporting.routes import routes as reporting
from functions.webhooks.routes import routes as webhooks
from shared.http import problems
from shared.http.routing import PUBLIC, Routes, json_response
from shared.observability import logger, metrics, tracer

# Powertools' Logger (shared.observability) owns the "otc" logger: Chalice configuring it too
# would add a second handler and stop propagation wherever stdout is not the one it first saw.
app = Chalice(app_name="otc", configure_logs=False)
app.register_middleware(ConvertToMiddleware(logger.inject_lambda_context))
app.register_middleware(ConvertToMiddleware(tracer.capture_lambda_handler))
app.register_middleware(ConvertToMiddleware(metrics.log_metrics))

# Placeholder the packaging merge replaces with the table's real stream ARN (GetAtt).
TABLE_STREAM = "arn:aws:dynamodb:us-east-1:000000000000:table/otc-table/stream/LATEST"


@app.middleware("all")
def acting(event: Any, get_response: Any) -> Any:
    """Events this invocation causes name ``system:<function>`` until a principal is known.

    ``_principal()`` replaces it with the authenticated principal; the actor before is restored
    afterwards, as a warm Lambda runs the next invocation in the same context.
    """
    from shared import actor

    context = getattr(event, "context", None) or getattr(event, "lambda_context", None)
    with actor.acting_as(actor.system(getattr(context, "function_name", None))):
        return get_response(event)


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


system = Routes(__name__)


@system.route("/health", methods=["GET"], requires=PUBLIC)
def health() -> Response:
    return json_response({"status": "ok"})


BLUEPRINTS: tuple[Routes, ...] = (system, orders, invoicing, accounts, catalog, webhooks)
BLUEPRINTS += (imports, payments, credits, collections, audit, reporting, ledger)
for blueprint in BLUEPRINTS:
    app.register_blueprint(blueprint)


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


# --- Events: customer notifications and partner webhooks ----------------------------------------


@app.on_sqs_message(queue="customer-notifications", batch_size=10)
def notify_customers(event: Any) -> dict[str, Any]:
    from functions.notifications.notify_customer import notify_customer
    from shared.adapters.bus_events import handle_batch

    return handle_batch(event.to_dict(), notify_customer, event.context)


@app.on_sqs_message(queue="partner-webhooks", batch_size=10)
def deliver_webhooks(event: Any) -> dict[str, Any]:
    from functions.webhooks.deliver import deliver_event
    from shared.adapters import sqs_backoff

    return sqs_backoff.handle_batch(event.to_dict(), deliver_event, event.context)


# --- Events: data migration (S3 -> default bus -> SQS, then a work queue of row chunks) -------


@app.on_sqs_message(queue="import-files", batch_size=1)
def start_imports(event: Any) -> dict[str, Any]:
    from functions.imports.start_import import start_from_message
    from shared.adapters.bus_events import handle_bodies

    return handle_bodies(event.to_dict(), start_from_message, event.context)


@app.on_sqs_message(queue="import-rows", batch_size=10)
def import_rows(event: Any) -> dict[str, Any]:
    from functions.imports.import_rows import import_chunk_message
    from shared.adapters.bus_events import handle_bodies

    return handle_bodies(event.to_dict(), import_chunk_message, event.context)


# --- Events: stock arriving fills backorders, oldest order first ------------------------------


@app.on_sqs_message(queue="backorder-allocation", batch_size=10)
def allocate_backorders(event: Any) -> dict[str, Any]:
    from functions.orders.allocate_backorders import fill_backorders
    from shared.adapters.bus_events import BusEvent, handle_batch

    def allocate(message: BusEvent) -> None:
        fill_backorders(message.detail.data["sku"], int(message.detail.data["available"]))

    return handle_batch(event.to_dict(), allocate, event.context)


# --- Events: invoicing -----------------------------------------------------------------------


@app.on_sqs_message(queue="invoice-issuance", batch_size=10)
def issue_invoices(event: Any) -> dict[str, Any]:
    from functions.invoicing.issue_invoice import issue_for_event
    from shared.adapters.bus_events import handle_batch

    return handle_batch(event.to_dict(), issue_for_event, event.context)


@app.on_sqs_message(queue="invoice-delivery", batch_size=10)
def deliver_invoices(event: Any) -> dict[str, Any]:
    from functions.invoicing.deliver_invoice import deliver_invoice
    from shared.adapters.bus_events import handle_batch

    return handle_batch(event.to_dict(), deliver_invoice, event.context)


# --- Events: payments intake (gateway events; statements dropped in the bucket inbox) -------


@app.on_sqs_message(queue="gateway-events", batch_size=10)
def record_gateway_events(event: Any) -> dict[str, Any]:
    from functions.payments.record_gateway_event import record_gateway_event
    from shared.adapters.bus_events import handle_batch

    return handle_batch(event.to_dict(), record_gateway_event, event.context)


@app.on_sqs_message(queue="bank-statements", batch_size=1)
def import_bank_statements(event: Any) -> dict[str, Any]:
    from functions.payments.import_statement import import_from_message
    from shared.adapters.bus_events import process_records

    context = event.context

    def time_left() -> float:
        return float(context.get_remaining_time_in_millis()) / 1000

    def run(record: Any) -> object:
        receives = int(record.attributes.approximate_receive_count or 1)
        return import_from_message(record.body, receives, time_left if context else None)

    return process_records(event.to_dict(), run, event.context)


# --- Events: cash application (payments received, disputed, disputes closed) ----------------


@app.on_sqs_message(queue="cash-application", batch_size=10)
def apply_cash(event: Any) -> dict[str, Any]:
    from functions.payments.apply_cash import apply_for_event
    from shared.adapters.bus_events import handle_batch

    return handle_batch(event.to_dict(), apply_for_event, event.context)


# --- Events: customer credits applied by the customer's policy (oldest first) ----------------


@app.on_sqs_message(queue="credit-application", batch_size=10)
def apply_credits(event: Any) -> dict[str, Any]:
    from functions.credits.apply_by_policy import apply_for_event
    from shared.adapters.bus_events import handle_batch

    return handle_batch(event.to_dict(), apply_for_event, event.context)


# --- Events: collections (the daily run fans customers out to the reminder worker) -----------


@app.schedule(Cron(0, 6, "*", "*", "?", "*"), description="Daily collection run")
def run_collections(event: Any) -> dict[str, Any]:
    from datetime import datetime

    from functions.collections.run import scheduled_as_of, start_run

    return start_run(scheduled_as_of(datetime.fromisoformat(event.time)))


@app.on_sqs_message(queue="collection-reminders", batch_size=5)
def remind_customers(event: Any) -> dict[str, Any]:
    from functions.collections.remind_customer import remind_from_message
    from shared.adapters.bus_events import handle_bodies

    return handle_bodies(event.to_dict(), remind_from_message, event.context)


# --- Reports: the nightly snapshot of aging and KPIs ----------------------------------------


@app.schedule(Cron(30, 1, "*", "*", "?", "*"), description="Nightly report snapshot")
def run_reports(event: Any) -> dict[str, Any]:
    from datetime import datetime

    from functions.reporting.snapshot import scheduled_day, take

    return take(scheduled_day(datetime.fromisoformat(event.time)))


@app.schedule(Cron(45, 1, "*", "*", "?", "*"), description="Nightly journal export")
def export_journal(event: Any) -> dict[str, Any]:
    from datetime import datetime

    from functions.ledger.export import export_day
    from functions.reporting.snapshot import scheduled_day

    return export_day(scheduled_day(datetime.fromisoformat(event.time)))


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
