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
from functions.cases.routes import routes as cases
from functions.catalog.routes import routes as catalog
from functions.collections import triggers as collections_triggers
from functions.collections.routes import routes as collections
from functions.credits import triggers as credits_triggers
from functions.credits.routes import routes as credits
from functions.imports import triggers as imports_triggers
from functions.imports.routes import routes as imports
from functions.invoicing import triggers as invoicing_triggers
from functions.invoicing.routes import routes as invoicing
from functions.lake import triggers as lake_triggers
from functions.ledger import triggers as ledger_triggers
from functions.ledger.routes import routes as ledger
from functions.notifications import triggers as notifications_triggers
from functions.orders import triggers as orders_triggers
from functions.orders.routes import routes as orders
from functions.outbox import triggers as outbox_triggers
from functions.payments import triggers as payments_triggers
from functions.payments.routes import routes as payments
from functions.portal.routes import routes as portal
from functions.reporting import triggers as reporting_triggers
from functions.reporting.routes import routes as reporting
from functions.webhooks import triggers as webhooks_triggers
from functions.webhooks.routes import routes as webhooks
from shared.http import negotiation, pages, problems
from shared.http.routing import PUBLIC, Routes, json_response
from shared.observability import logger, metrics, tracer

# Powertools' Logger (shared.observability) owns the "otc" logger: Chalice configuring it too
# would add a second handler and stop propagation wherever stdout is not the one it first saw.
app = Chalice(app_name="otc", configure_logs=False)
app.api.binary_types.append(negotiation.XLSX_TYPE)  # the reports' workbooks (base64 through APIGW)
app.register_middleware(ConvertToMiddleware(logger.inject_lambda_context))
app.register_middleware(ConvertToMiddleware(tracer.capture_lambda_handler))
app.register_middleware(ConvertToMiddleware(metrics.log_metrics))

# Placeholder the packaging merge replaces with the table's real stream ARN (GetAtt).
TABLE_STREAM = "arn:aws:dynamodb:us-east-1:000000000000:table/otc-table/stream/LATEST"


@app.middleware("all")
def acting(event: Any, get_response: Any) -> Any:
    """Events this invocation causes name ``system:<function>`` until a principal is known.

    A route's check of its caller (shared.http.routing) replaces it with the authenticated
    principal; the actor before is restored afterwards, as a warm Lambda runs the next
    invocation in the same context.
    """
    from shared import actor

    context = getattr(event, "context", None) or getattr(event, "lambda_context", None)
    with actor.acting_as(actor.system(getattr(context, "function_name", None))):
        return get_response(event)


@app.middleware("http")
def problem_details(request: Any, get_response: Any) -> Response:
    """Every error leaves as application/problem+json, whoever raised it (a browser page's, as
    an HTML page to a browser)."""
    try:
        response = get_response(request)
    except problems.Problem as problem:
        if problem.page and pages.wants_html(request.headers):
            return pages.problem_page(problem)
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
BLUEPRINTS += (imports, payments, credits, collections, audit, reporting, ledger, portal)
BLUEPRINTS += (cases,)
for blueprint in BLUEPRINTS:
    app.register_blueprint(blueprint)


# --- Triggers other than HTTP: SQS queues (EventBridge rules feed them), schedules, the stream

confirm_orders = app.on_sqs_message(queue="order-confirmation", batch_size=10)(
    orders_triggers.confirm_orders
)
notify_customers = app.on_sqs_message(queue="customer-notifications", batch_size=10)(
    notifications_triggers.notify_customers
)
deliver_webhooks = app.on_sqs_message(queue="partner-webhooks", batch_size=10)(
    webhooks_triggers.deliver_webhooks
)
start_imports = app.on_sqs_message(queue="import-files", batch_size=1)(
    imports_triggers.start_imports
)
import_rows = app.on_sqs_message(queue="import-rows", batch_size=10)(imports_triggers.import_rows)
allocate_backorders = app.on_sqs_message(queue="backorder-allocation", batch_size=10)(
    orders_triggers.allocate_backorders
)
issue_invoices = app.on_sqs_message(queue="invoice-issuance", batch_size=10)(
    invoicing_triggers.issue_invoices
)
deliver_invoices = app.on_sqs_message(queue="invoice-delivery", batch_size=10)(
    invoicing_triggers.deliver_invoices
)
record_gateway_events = app.on_sqs_message(queue="gateway-events", batch_size=10)(
    payments_triggers.record_gateway_events
)
import_bank_statements = app.on_sqs_message(queue="bank-statements", batch_size=1)(
    payments_triggers.import_bank_statements
)
apply_cash = app.on_sqs_message(queue="cash-application", batch_size=10)(
    payments_triggers.apply_cash
)
apply_credits = app.on_sqs_message(queue="credit-application", batch_size=10)(
    credits_triggers.apply_credits
)
run_collections = app.schedule(Cron(0, 6, "*", "*", "?", "*"), description="Daily collection run")(
    collections_triggers.run_collections
)
remind_customers = app.on_sqs_message(queue="collection-reminders", batch_size=5)(
    collections_triggers.remind_customers
)
run_reports = app.schedule(Cron(30, 1, "*", "*", "?", "*"), description="Nightly report snapshot")(
    reporting_triggers.run_reports
)
export_journal = app.schedule(
    Cron(45, 1, "*", "*", "?", "*"), description="Nightly journal export"
)(ledger_triggers.export_journal)
publish_events = app.on_dynamodb_record(
    stream_arn=TABLE_STREAM, batch_size=100, starting_position="TRIM_HORIZON"
)(outbox_triggers.publish_events)
land_in_lake = app.on_dynamodb_record(
    stream_arn=TABLE_STREAM, batch_size=100, starting_position="TRIM_HORIZON"
)(lake_triggers.land_in_lake)
sweep_outbox = app.schedule(
    Rate(5, unit=Rate.MINUTES), description="Republish events the stream path missed"
)(outbox_triggers.sweep_outbox)
