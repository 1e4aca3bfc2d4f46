"""The composition root: the Chalice app, its middleware, one Blueprint per bounded context (the
HTTP routes, in functions/<context>/routes.py) and the wiring of every other trigger.

Handlers import their use cases inside the handler, so each Lambda's cold start imports only what
it runs; a route module imports only chalice and the light shared.http.routing at module level.
Each trigger keeps its function's name here: Chalice names the Lambda handler ``app.<name>``.
"""

from __future__ import annotations

from functools import partial

from chalice import ConvertToMiddleware, Cron
from chalice.app import Chalice

from functions.accounts.routes import routes as accounts
from functions.audit.routes import routes as audit
from functions.cases.routes import routes as cases
from functions.catalog.routes import routes as catalog
from functions.credits import triggers as credits_triggers
from functions.credits.routes import routes as credits
from functions.dunning import triggers as dunning_triggers
from functions.dunning.routes import routes as dunning
from functions.invoicing import triggers as invoicing_triggers
from functions.invoicing.routes import routes as invoicing
from functions.lake import triggers as lake_triggers
from functions.ledger import triggers as ledger_triggers
from functions.ledger.routes import routes as ledger
from functions.migration import triggers as migration_triggers
from functions.migration.routes import routes as migration
from functions.notifications import triggers as notifications_triggers
from functions.orders import triggers as orders_triggers
from functions.orders.routes import routes as orders
from functions.outbox import triggers as outbox_triggers
from functions.payments import triggers as payments_triggers
from functions.payments.routes import routes as payments
from functions.portal.routes import routes as portal
from functions.reporting import triggers as reporting_triggers
from functions.reporting.routes import routes as reporting
from functions.system.routes import routes as system
from functions.webhooks import triggers as webhooks_triggers
from functions.webhooks.routes import routes as webhooks
from shared.http import middleware, negotiation
from shared.http.routing import Routes
from shared.observability import logger, metrics, tracer

# Powertools' Logger (shared.observability) owns the "otc" logger: Chalice configuring it too
# would add a second handler and stop propagation wherever stdout is not the one it first saw.
app = Chalice(app_name="otc", configure_logs=False)
app.api.binary_types.append(negotiation.XLSX_TYPE)  # the reports' workbooks (base64 through APIGW)
app.register_middleware(ConvertToMiddleware(logger.inject_lambda_context))
app.register_middleware(ConvertToMiddleware(tracer.capture_lambda_handler))
app.register_middleware(ConvertToMiddleware(metrics.log_metrics))
app.register_middleware(middleware.acting, "all")
app.register_middleware(middleware.problem_details, "http")

# Placeholder the packaging merge replaces with the table's real stream ARN (GetAtt).
TABLE_STREAM = "arn:aws:dynamodb:us-east-1:000000000000:table/otc-table/stream/LATEST"

BLUEPRINTS: tuple[Routes, ...] = (system, orders, invoicing, accounts, catalog, webhooks)
BLUEPRINTS += (migration, payments, credits, dunning, audit, reporting, ledger, portal)
BLUEPRINTS += (cases,)
for blueprint in BLUEPRINTS:
    app.register_blueprint(blueprint)


# --- Triggers other than HTTP: SQS queues (EventBridge rules feed them), schedules, the stream

schedule = app.schedule
sqs = partial(app.on_sqs_message, batch_size=10)  # a batch of 10 unless a queue says otherwise
stream = partial(
    app.on_dynamodb_record, TABLE_STREAM, batch_size=100, starting_position="TRIM_HORIZON"
)


def daily(hour: int, minute: int = 0) -> Cron:
    return Cron(minute, hour, "*", "*", "?", "*")  # UTC


confirm_orders = sqs(queue="order-confirmation")(orders_triggers.confirm_orders)
notify_customers = sqs(queue="customer-notifications")(notifications_triggers.notify_customers)
deliver_webhooks = sqs(queue="partner-webhooks")(webhooks_triggers.deliver_webhooks)
start_imports = sqs(queue="import-files", batch_size=1)(migration_triggers.start_imports)
import_rows = sqs(queue="import-rows")(migration_triggers.import_rows)
allocate_backorders = sqs(queue="backorder-allocation")(orders_triggers.allocate_backorders)
issue_invoices = sqs(queue="invoice-issuance")(invoicing_triggers.issue_invoices)
deliver_invoices = sqs(queue="invoice-delivery")(invoicing_triggers.deliver_invoices)
record_gateway_events = sqs(queue="gateway-events")(payments_triggers.record_gateway_events)
import_bank_statements = sqs(queue="bank-statements", batch_size=1)(
    payments_triggers.import_bank_statements
)
apply_cash = sqs(queue="cash-application")(payments_triggers.apply_cash)
apply_credits = sqs(queue="credit-application")(credits_triggers.apply_credits)
run_collections = schedule(daily(6), description="Daily collection run")(
    dunning_triggers.run_collections
)
remind_customers = sqs(queue="collection-reminders", batch_size=5)(
    dunning_triggers.remind_customers
)
run_reports = schedule(daily(1, 30), description="Nightly report snapshot")(
    reporting_triggers.run_reports
)
export_journal = schedule(daily(1, 45), description="Nightly journal export")(
    ledger_triggers.export_journal
)
publish_events = stream()(outbox_triggers.publish_events)
land_in_lake = stream()(lake_triggers.land_in_lake)
recover_events = sqs(queue="event-recovery")(outbox_triggers.recover_events)
