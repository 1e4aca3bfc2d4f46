"""The Chalice app: every trigger of the system is declared here, and each handler stays thin.

Handlers parse the trigger, call one use case in functions/, and shape the answer. Use cases are
imported inside the handler, so each Lambda's cold start imports only what it runs.
"""

from __future__ import annotations

import json
from typing import Any, TypeVar

from chalice import ConvertToMiddleware, Cron, Rate, Response
from chalice.app import Chalice, Request
from pydantic import BaseModel

from shared.http import problems
from shared.observability import logger, metrics, tracer

Model = TypeVar("Model", bound=BaseModel)


class _Api(Chalice):
    """Chalice, each route of which answers 503 problem+json when AWS is unavailable."""

    def route(self, path: str, **kwargs: Any) -> Any:
        register = super().route(path, **kwargs)
        return lambda view: register(problems.answering_outages(view))


# Powertools' Logger (shared.observability) owns the "otc" logger: Chalice configuring it too
# would add a second handler and stop propagation wherever stdout is not the one it first saw.
app = _Api(app_name="otc", configure_logs=False)
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
    from shared import actor
    from shared.http import auth

    principal = auth.authenticate(_request().headers)
    actor.set_actor(principal.principal_id)  # the events this request causes name who caused them
    return principal


def _body(model: type[Model]) -> Model:
    from shared.http import body

    request = _request()
    return body.parse(request.raw_body, model, content_type=request.headers.get("Content-Type"))


def _query(model: type[Model]) -> Model:
    """The query string as ``model``; bad parameters answer 400 with one error per parameter."""
    from pydantic import ValidationError

    try:
        return model.model_validate(_request().query_params or {})
    except ValidationError as error:
        raise problems.invalid_query(
            [
                {
                    "parameter": ".".join(str(p) for p in item["loc"]),
                    "detail": item["msg"],
                }
                for item in error.errors(include_url=False, include_input=False)
            ]
        ) from None


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
        order = place_order(order_request, principal)  # counted as OrdersReceived on commit
        return {
            "status": 201,
            "body": order.to_wire(),
            "headers": {"Location": f"/orders/{order.order_id}"},
        }

    return _idempotent("orders.place", principal, order_request, place)


@app.route("/orders", methods=["GET"])
def list_orders() -> Response:
    from functions.orders.list_orders import OrderQuery, list_orders
    from shared.http.auth import Action

    principal = _principal()
    principal.require(Action.READ)
    found = list_orders(_query(OrderQuery), principal)
    orders = [o.to_wire() for o in found.orders]
    return _json({"orders": orders, "next_cursor": found.next_cursor, "skipped": found.skipped})


@app.route("/orders/{order_id}", methods=["GET"])
def get_order(order_id: str) -> Response:
    from functions.orders.get_order import get_order
    from shared.http.auth import Action

    principal = _principal()
    principal.require(Action.READ)
    return _json(get_order(order_id, principal).to_wire())


@app.route("/orders/{order_id}/history", methods=["GET"])
def get_order_history(order_id: str) -> Response:
    from functions.orders.order_history import order_history
    from shared.http.auth import Action

    principal = _principal()
    principal.require(Action.READ)
    return _json({"events": order_history(order_id, principal)})


@app.route("/orders/{order_id}", methods=["PATCH"])
def patch_order(order_id: str) -> Response:
    from functions.orders.amend_order import amend_order
    from shared.domain.order import AmendmentRequest
    from shared.http.auth import Action

    principal = _principal()
    principal.require(Action.PLACE_ORDERS)
    return _json(amend_order(order_id, _body(AmendmentRequest), principal).to_wire())


@app.route("/orders/{order_id}/cancel", methods=["POST"])
def cancel_order(order_id: str) -> Response:
    from functions.orders.cancel_order import cancel_order
    from shared.http.auth import Action

    return _order_decision(order_id, Action.PLACE_ORDERS, "orders.cancel", cancel_order)


@app.route("/orders/{order_id}/approve", methods=["POST"])
def approve_order(order_id: str) -> Response:
    from functions.orders.decide_credit import approve_order
    from shared.http.auth import Action

    return _order_decision(
        order_id, Action.DECIDE_CREDIT, "orders.approve", lambda o, _, p: approve_order(o, p)
    )


@app.route("/orders/{order_id}/reject", methods=["POST"])
def reject_order(order_id: str) -> Response:
    from functions.orders.decide_credit import reject_order
    from shared.http.auth import Action

    return _order_decision(order_id, Action.DECIDE_CREDIT, "orders.reject", reject_order)


@app.route("/orders/{order_id}/close", methods=["POST"])
def close_order(order_id: str) -> Response:
    from functions.orders.close_order import close_order
    from shared.http.auth import Action

    return _order_decision(order_id, Action.PLACE_ORDERS, "orders.close", close_order)


def _order_decision(order_id: str, action: Any, operation: str, decide: Any) -> Response:
    """POST /orders/{id}/<decision> with an optional reason, once per Idempotency-Key."""
    from shared.domain.order import DecisionRequest

    principal = _principal()
    principal.require(action)
    decision = _body(DecisionRequest) if _request().raw_body else DecisionRequest()

    def run() -> dict[str, Any]:
        return {"status": 200, "body": decide(order_id, decision.reason, principal).to_wire()}

    return _idempotent(f"{operation}.{order_id}", principal, decision, run)


@app.route("/orders/{order_id}/shipments", methods=["POST"])
def post_shipment(order_id: str) -> Response:
    from functions.orders.ship_order import ship_order
    from shared.domain.order import ShipmentRequest
    from shared.http.auth import Action

    principal = _principal()
    principal.require(Action.SHIP_ORDERS)
    shipment_request = _body(ShipmentRequest)

    def run() -> dict[str, Any]:
        order, shipment = ship_order(order_id, shipment_request, principal)
        return {"status": 201, "body": {"shipment": shipment.to_wire(), "order": order.to_wire()}}

    return _idempotent(f"orders.ship.{order_id}", principal, shipment_request, run)


# --- HTTP: invoices and credit notes --------------------------------------------------------


@app.route("/invoices", methods=["GET"])
def list_invoices() -> Response:
    from functions.invoicing.list_invoices import InvoiceQuery, list_invoices
    from shared.http.auth import Action

    principal = _principal()
    principal.require(Action.READ)
    return _json(list_invoices(_query(InvoiceQuery), principal))


@app.route("/invoices/{invoice_id}", methods=["GET"])
def get_invoice(invoice_id: str) -> Response:
    from functions.invoicing.get_invoice import get_invoice
    from shared.http.auth import Action

    principal = _principal()
    principal.require(Action.READ)
    return _json(get_invoice(invoice_id, principal))


@app.route("/invoices/{invoice_id}/document", methods=["GET"])
def get_invoice_document(invoice_id: str) -> Response:
    from functions.invoicing.document_link import DocumentQuery, document_link
    from shared.http.auth import Action

    principal = _principal()
    principal.require(Action.READ)
    link = document_link(invoice_id, _query(DocumentQuery), principal)
    # no-store: the answer is a bearer link to the document
    return _json(link, headers={"Cache-Control": "no-store"})


@app.route("/invoices/{invoice_id}/credit-notes", methods=["POST"])
def post_credit_note(invoice_id: str) -> Response:
    from functions.invoicing.credit_notes import CreditNoteRequest, issue_credit_note
    from shared.http.auth import Action

    principal = _principal()
    principal.require(Action.ISSUE_CREDIT_NOTES)
    request = _body(CreditNoteRequest)

    def issue() -> dict[str, Any]:
        note = issue_credit_note(invoice_id, request, principal)
        location = f"/invoices/{note.invoice_id}"
        return {"status": 201, "body": note.to_wire(), "headers": {"Location": location}}

    return _idempotent(f"invoices.credit.{invoice_id}", principal, request, issue)


@app.route("/invoices/{invoice_id}/write-offs", methods=["POST"])
def post_write_off(invoice_id: str) -> Response:
    from functions.invoicing.write_offs import WriteOffRequest, write_off
    from shared.http.auth import Action

    principal = _principal()
    principal.require(Action.WRITE_OFF)
    request = _body(WriteOffRequest)

    def run() -> dict[str, Any]:
        invoice, written = write_off(invoice_id, request, principal)
        location = f"/invoices/{invoice_id}/write-offs/{written.write_off_id}"
        body = {"write_off": written.to_wire(invoice.currency), "invoice": invoice.to_wire()}
        return {"status": 201, "body": body, "headers": {"Location": location}}

    return _idempotent(f"invoices.write_off.{invoice_id}", principal, request, run)


@app.route("/invoices/{invoice_id}/write-offs/{write_off_id}/reversal", methods=["POST"])
def post_write_off_reversal(invoice_id: str, write_off_id: str) -> Response:
    from functions.invoicing.write_offs import WriteOffReversalRequest, reverse
    from shared.http.auth import Action

    principal = _principal()
    principal.require(Action.WRITE_OFF)
    request = _body(WriteOffReversalRequest)

    def run() -> dict[str, Any]:
        invoice, reversed_ = reverse(invoice_id, write_off_id, request, principal)
        body = {"write_off": reversed_.to_wire(invoice.currency), "invoice": invoice.to_wire()}
        return {"status": 200, "body": body}

    operation = f"invoices.write_off_reversal.{invoice_id}.{write_off_id}"
    return _idempotent(operation, principal, request, run)


# --- HTTP: accounts (customers, partners, staff, API keys) ----------------------------------


@app.route("/customers", methods=["POST"])
def post_customer() -> Response:
    from functions.accounts.create_customer import create_customer
    from shared.domain.customer import CustomerRequest
    from shared.http.auth import Action

    principal = _principal()
    principal.require(Action.MANAGE_CUSTOMERS)
    request = _body(CustomerRequest)

    def create() -> dict[str, Any]:
        customer = create_customer(request, principal)
        location = f"/customers/{customer.customer_id}"
        return {"status": 201, "body": customer.to_wire(), "headers": {"Location": location}}

    return _idempotent("customers.create", principal, request, create)


@app.route("/customers", methods=["GET"])
def list_customers() -> Response:
    from functions.accounts.list_customers import list_customers
    from functions.accounts.paging import PageQuery
    from shared.http.auth import Action

    principal = _principal()
    principal.require(Action.READ)
    return _json(list_customers(principal, _query(PageQuery)).to_wire())


@app.route("/customers/{customer_id}", methods=["GET"])
def get_customer(customer_id: str) -> Response:
    from functions.accounts.get_customer import get_customer
    from shared.http.auth import Action

    principal = _principal()
    principal.require(Action.READ)
    return _json(get_customer(customer_id, principal).to_wire())


@app.route("/customers/{customer_id}/statement", methods=["GET"])
def get_customer_statement(customer_id: str) -> Response:
    from functions.collections.statement import StatementFormat, StatementQuery, read_statement
    from shared.http.auth import Action

    principal = _principal()
    principal.require(Action.READ)
    query = _query(StatementQuery)
    answer = read_statement(customer_id, query, principal)
    # no-store: the PDF answer is a bearer link to the document
    pdf = query.format is StatementFormat.PDF
    return _json(answer, headers={"Cache-Control": "no-store"} if pdf else None)


@app.route("/customers/{customer_id}", methods=["PATCH"])
def patch_customer(customer_id: str) -> Response:
    from functions.accounts.update_customer import authorize, update_customer
    from shared.domain.customer import CustomerPatch

    principal = _principal()
    authorize(principal)
    return _json(update_customer(customer_id, _body(CustomerPatch), principal).to_wire())


def _issuing(operation: str, principal: Any, payload: BaseModel, issue: Any) -> Response:
    """``_idempotent`` for answers that show a new API key's secret.

    The secret reaches the caller once and never the idempotency record (nor anything else that
    is stored). A replay means the first answer, the only place its secret ever was, did not
    reach the caller (a lost connection, or a Lambda that died after saving it): the replay
    answers the same key with a new secret, and the first one stops working (``"secret": null``
    when the key was revoked since).
    """
    shown: list[str] = []

    def run() -> dict[str, Any]:
        answer, secret = issue()
        shown.append(secret)
        return dict(answer)

    response = _idempotent(operation, principal, payload, run)
    body = json.loads(response.body)
    if shown:
        body["api_key"]["secret"] = shown[0]
    elif response.status_code == 201:
        from functions.accounts.issue_key import secret_for_replay

        key = body["api_key"]
        body["api_key"]["secret"] = secret_for_replay(key["principal_id"], key["key_id"])
    response.body = json.dumps(body)
    response.headers["Cache-Control"] = "no-store"
    return response


@app.route("/partners", methods=["POST"])
def post_partner() -> Response:
    from functions.accounts.create_partner import create_partner
    from shared.domain.principal import PartnerRequest
    from shared.http.auth import Action

    principal = _principal()
    principal.require(Action.MANAGE_ACCESS)
    request = _body(PartnerRequest)

    def create() -> tuple[dict[str, Any], str]:
        issued = create_partner(request, principal)
        partner, key = issued.principal.to_wire(), issued.key_wire(with_secret=False)
        location = f"/partners/{issued.principal.principal_id}"
        answer = {"status": 201, "body": {"partner": partner, "api_key": key}}
        answer["headers"] = {"Location": location}
        return answer, issued.secret.get_secret_value()

    return _issuing("partners.create", principal, request, create)


@app.route("/partners/{partner_id}", methods=["GET"])
def get_partner(partner_id: str) -> Response:
    from functions.accounts.get_principal import get_principal

    return _json(get_principal(partner_id, "partner", _principal()).to_wire())


@app.route("/partners/{partner_id}", methods=["PATCH"])
def patch_partner(partner_id: str) -> Response:
    from functions.accounts.update_partner import update_partner
    from shared.domain.principal import PartnerPatch
    from shared.http.auth import Action

    principal = _principal()
    principal.require(Action.MANAGE_ACCESS)
    return _json(update_partner(partner_id, _body(PartnerPatch), principal).to_wire())


@app.route("/staff", methods=["POST"])
def post_staff() -> Response:
    from functions.accounts.create_staff import create_staff
    from shared.domain.principal import StaffRequest
    from shared.http.auth import Action

    principal = _principal()
    principal.require(Action.MANAGE_ACCESS)
    request = _body(StaffRequest)

    def create() -> tuple[dict[str, Any], str]:
        issued = create_staff(request, principal)
        staff, key = issued.principal.to_wire(), issued.key_wire(with_secret=False)
        location = f"/staff/{issued.principal.principal_id}"
        answer = {"status": 201, "body": {"staff": staff, "api_key": key}}
        answer["headers"] = {"Location": location}
        return answer, issued.secret.get_secret_value()

    return _issuing("staff.create", principal, request, create)


@app.route("/staff/{staff_id}", methods=["GET"])
def get_staff(staff_id: str) -> Response:
    from functions.accounts.get_principal import get_principal

    return _json(get_principal(staff_id, "staff", _principal()).to_wire())


@app.route("/principals/{principal_id}/keys", methods=["POST"])
def post_principal_key(principal_id: str) -> Response:
    from functions.accounts.issue_key import issue_key
    from shared.domain.principal import KeyRequest
    from shared.http.auth import Action

    principal = _principal()
    principal.require(Action.MANAGE_ACCESS)
    request = _body(KeyRequest) if _request().raw_body else KeyRequest()

    def issue() -> tuple[dict[str, Any], str]:
        issued = issue_key(principal_id, request, principal)
        answer = {"status": 201, "body": {"api_key": issued.key_wire(with_secret=False)}}
        return answer, issued.secret.get_secret_value()

    return _issuing(f"principals.keys.issue#{principal_id}", principal, request, issue)


@app.route("/principals/{principal_id}/keys", methods=["GET"])
def list_principal_keys(principal_id: str) -> Response:
    from functions.accounts.list_keys import list_keys
    from functions.accounts.paging import PageQuery

    principal = _principal()
    return _json(list_keys(principal_id, _query(PageQuery), principal).to_wire())


@app.route("/principals/{principal_id}/keys/{key_id}", methods=["DELETE"])
def revoke_principal_key(principal_id: str, key_id: str) -> Response:
    from functions.accounts.revoke_key import revoke_key

    return _json(revoke_key(principal_id, key_id, _principal()).to_wire())


@app.route("/gateway-keys", methods=["GET"])
def gateway_key_coverage() -> Response:
    from functions.accounts.gateway_keys import coverage

    return _json(coverage(_principal()))


# --- HTTP: catalog and stock ----------------------------------------------------------------


@app.route("/catalog/items", methods=["GET"])
def list_catalog_items() -> Response:
    from functions.catalog.list_items import ItemQuery, list_items
    from shared.http.auth import Action

    _principal().require(Action.READ)
    return _json(list_items(_query(ItemQuery)))


@app.route("/catalog/items/{sku}", methods=["GET"])
def get_catalog_item(sku: str) -> Response:
    from functions.catalog.get_item import get_item
    from shared.http.auth import Action

    _principal().require(Action.READ)
    return _json(get_item(sku))


@app.route("/catalog/items/{sku}", methods=["PUT"])
def put_catalog_item(sku: str) -> Response:
    from functions.catalog.upsert_item import upsert_item
    from shared.domain.pricing import ItemRequest
    from shared.http.auth import Action

    _principal().require(Action.MANAGE_CATALOG)
    item, created = upsert_item(sku, _body(ItemRequest))
    if created:
        return _json(item.to_wire(), 201, {"Location": f"/catalog/items/{sku}"})
    return _json(item.to_wire())


@app.route("/catalog/items/{sku}/prices/{currency}", methods=["PUT"])
def put_catalog_price(sku: str, currency: str) -> Response:
    from functions.catalog.set_price import set_price
    from shared.domain.pricing import PriceRequest
    from shared.http.auth import Action

    _principal().require(Action.MANAGE_CATALOG)
    price, created = set_price(sku, currency, _body(PriceRequest))
    return _json(price.to_wire(), 201 if created else 200)


@app.route("/catalog/items/{sku}/prices/{currency}/customers/{customer_id}", methods=["DELETE"])
def delete_customer_price(sku: str, currency: str, customer_id: str) -> Response:
    from functions.catalog.remove_customer_price import remove_customer_price
    from shared.http.auth import Action

    _principal().require(Action.MANAGE_CATALOG)
    remove_customer_price(sku, currency, customer_id)
    return Response(body="", status_code=204)


@app.route("/stock/{sku}", methods=["GET"])
def get_stock(sku: str) -> Response:
    from functions.catalog.get_stock import get_stock
    from shared.http.auth import Action

    principal = _principal()
    principal.require(Action.READ)
    return _json(get_stock(sku, principal))


@app.route("/stock/{sku}", methods=["PUT"])
def put_stock(sku: str) -> Response:
    from functions.catalog.set_stock import set_stock
    from shared.domain.stock import SetOnHandRequest
    from shared.http.auth import Action

    _principal().require(Action.MANAGE_CATALOG)
    level, started = set_stock(sku, _body(SetOnHandRequest))
    return _json(level.to_wire(), 201 if started else 200)


@app.route("/stock/{sku}/adjustments", methods=["POST"])
def post_stock_adjustment(sku: str) -> Response:
    from functions.catalog import params
    from functions.catalog.adjust_stock import adjust_stock
    from shared.domain.stock import AdjustmentRequest
    from shared.http.auth import Action

    principal = _principal()
    principal.require(Action.MANAGE_CATALOG)
    adjustment = _body(AdjustmentRequest)

    def run() -> dict[str, Any]:
        return {"status": 200, "body": adjust_stock(sku, adjustment).to_wire()}

    return _idempotent(f"stock.adjust.{params.sku(sku)}", principal, adjustment, run)


# --- HTTP: partner webhooks -----------------------------------------------------------------


def _webhook_owner(partner_id: str) -> Any:
    """The caller, once it may manage this partner's webhook (an admin, or the partner itself)."""
    from functions.webhooks.manage import authorize

    principal = _principal()
    authorize(principal, partner_id)
    return principal


@app.route("/partners/{partner_id}/webhook", methods=["PUT"])
def put_partner_webhook(partner_id: str) -> Response:
    from functions.webhooks.manage import register
    from shared.domain.webhooks import WebhookRequest

    _webhook_owner(partner_id)
    webhook, secret = register(partner_id, _body(WebhookRequest))
    # The only answer that ever holds the signing secret.
    return _json({**webhook.to_wire(), "secret": secret}, headers={"Cache-Control": "no-store"})


@app.route("/partners/{partner_id}/webhook", methods=["GET"])
def get_partner_webhook(partner_id: str) -> Response:
    from functions.webhooks.manage import read

    _webhook_owner(partner_id)
    return _json(read(partner_id).to_wire())


@app.route("/partners/{partner_id}/webhook", methods=["DELETE"])
def delete_partner_webhook(partner_id: str) -> Response:
    from functions.webhooks.manage import remove

    _webhook_owner(partner_id)
    remove(partner_id)
    return Response(body="", status_code=204)


@app.route("/partners/{partner_id}/webhook/deliveries", methods=["GET"])
def list_webhook_deliveries(partner_id: str) -> Response:
    from functions.webhooks.manage import DeliveryQuery, list_deliveries

    _webhook_owner(partner_id)
    return _json(list_deliveries(partner_id, _query(DeliveryQuery)))


@app.route("/partners/{partner_id}/webhook/deliveries/{delivery_id}/replay", methods=["POST"])
def replay_webhook_delivery(partner_id: str, delivery_id: str) -> Response:
    from functions.webhooks.deliver import ReplayRequest, replay

    principal = _webhook_owner(partner_id)
    request = _body(ReplayRequest) if _request().raw_body else ReplayRequest()

    def run() -> dict[str, Any]:
        return {"status": 200, "body": replay(partner_id, delivery_id).to_wire()}

    return _idempotent(f"webhooks.replay.{partner_id}.{delivery_id}", principal, request, run)


# --- HTTP: data migration -------------------------------------------------------------------
# API Gateway allows one variable name per path level, so POST /imports/{kind} and
# GET /imports/{import_id} share one: ``import_ref`` is the kind for the POST, the id otherwise.


@app.route("/imports/{import_ref}", methods=["POST"], content_types=["text/csv"])
def post_import(import_ref: str) -> Response:
    from functions.imports.upload import receive, start

    principal = _principal()
    upload = receive(import_ref, _request().raw_body, principal)

    def run() -> dict[str, Any]:
        answer = start(upload, principal)
        return {"status": 202, "body": answer, "headers": {"Location": answer["status_url"]}}

    return _idempotent(f"imports.upload.{upload.kind}", principal, upload.fingerprint, run)


@app.route("/imports/{import_ref}", methods=["GET"])
def get_import(import_ref: str) -> Response:
    from functions.imports.read import get_import as read_import

    # no-store: the answer holds a presigned link to the error report
    return _json(read_import(import_ref, _principal()), headers={"Cache-Control": "no-store"})


@app.route("/imports/{import_ref}/errors", methods=["GET"])
def list_import_errors(import_ref: str) -> Response:
    from functions.accounts.paging import PageQuery
    from functions.imports.read import list_errors

    principal = _principal()
    return _json(list_errors(import_ref, _query(PageQuery), principal))


# --- HTTP: payments intake (gateway webhooks, bank statements, manual payments) -------------
# The webhook routes take no API key: the gateway's signature authenticates each request.


@app.route("/webhooks/stripe", methods=["POST"])
def post_stripe_webhook() -> Response:
    from functions.payments.receive_webhook import receive_stripe
    from shared import actor

    request = _request()
    actor.set_actor("gateway:stripe")  # the signature, checked next, is the only credential
    return _json(receive_stripe(request.raw_body, request.headers))


@app.route("/webhooks/{provider}", methods=["POST"])
def post_gateway_webhook(provider: str) -> Response:
    from functions.payments.receive_webhook import receive_generic
    from shared import actor

    request = _request()
    actor.set_actor(f"gateway:{provider}")  # the signature, checked next, is the only credential
    return _json(receive_generic(provider, request.raw_body, request.headers))


@app.route("/bank-statements", methods=["POST"], content_types=["application/xml", "text/xml"])
def post_bank_statement() -> Response:
    from functions.payments import queue_statement
    from functions.payments.import_statement import import_statement, receive

    principal = _principal()
    upload = receive(_request().raw_body, principal)

    def run() -> dict[str, Any]:
        if queue_statement.wanted(upload):
            queued = queue_statement.queue_statement(upload, by=principal.principal_id)
            return {
                "status": queued.status,
                "body": queued.body,
                "headers": {"Location": queued.location},
            }
        imported = import_statement(upload, by=principal.principal_id)
        return {"status": 201 if imported.first else 200, "body": imported.summary}

    return _idempotent("payments.statement", principal, upload.fingerprint, run)


@app.route("/bank-statements/{statement_ref}", methods=["GET"])
def get_bank_statement(statement_ref: str) -> Response:
    from functions.payments.get_statement import get_statement

    return _json(get_statement(statement_ref, _principal()), headers={"Cache-Control": "no-store"})


@app.route("/payments", methods=["POST"])
def post_payment() -> Response:
    from functions.payments.record_manual_payment import (
        ManualPaymentRequest,
        record_manual_payment,
    )

    principal = _principal()
    request = _body(ManualPaymentRequest)

    def record() -> dict[str, Any]:
        payment = record_manual_payment(request, principal)
        location = f"/payments/{payment.payment_id}"
        return {"status": 201, "body": payment.to_wire(), "headers": {"Location": location}}

    return _idempotent("payments.record", principal, request, record)


@app.route("/payments/{payment_id}", methods=["GET"])
def get_payment(payment_id: str) -> Response:
    from functions.payments.get_payment import get_payment as read_payment
    from functions.payments.worklist import as_seen_by

    principal = _principal()
    return _json(as_seen_by(read_payment(payment_id, principal), principal))


# --- HTTP: cash application (the worklist, manual allocations, reversals) -------------------


@app.route("/payments", methods=["GET"])
def list_payments() -> Response:
    from functions.payments.worklist import WorklistQuery, list_payments

    return _json(list_payments(_query(WorklistQuery), _principal()))


@app.route("/payments/{payment_id}/allocations", methods=["POST"])
def post_payment_allocations(payment_id: str) -> Response:
    from functions.payments.allocate_manually import AllocationRequest, allocate_manually
    from shared.http.auth import Action

    principal = _principal()
    principal.require(Action.APPLY_CASH)
    request = _body(AllocationRequest)

    def run() -> dict[str, Any]:
        return {"status": 201, "body": allocate_manually(payment_id, request, principal)}

    return _idempotent(f"payments.allocate.{payment_id}", principal, request, run)


@app.route("/payments/{payment_id}/allocations/{allocation_id}/reversal", methods=["POST"])
def post_allocation_reversal(payment_id: str, allocation_id: str) -> Response:
    from functions.payments.unapply import ReversalRequest, unapply_allocation
    from shared.http.auth import Action

    principal = _principal()
    principal.require(Action.APPLY_CASH)
    request = _body(ReversalRequest)

    def run() -> dict[str, Any]:
        body = unapply_allocation(payment_id, allocation_id, request, principal)
        return {"status": 200, "body": body}

    operation = f"payments.unapply.{payment_id}.{allocation_id}"
    return _idempotent(operation, principal, request, run)


# --- HTTP: customer credits (list, apply to invoices, pay back) -------------------------------


@app.route("/customers/{customer_id}/credits", methods=["GET"])
def list_customer_credits(customer_id: str) -> Response:
    from functions.credits.list_credits import list_credits

    return _json(list_credits(customer_id, _principal()))


@app.route("/customers/{customer_id}/charges", methods=["GET"])
def list_customer_charges(customer_id: str) -> Response:
    from functions.credits.list_charges import ChargeQuery, list_charges

    query = _query(ChargeQuery)
    return _json(list_charges(customer_id, _principal(), only_open=query.status == "open"))


@app.route("/customers/{customer_id}/credits/applications", methods=["POST"])
def post_credit_application(customer_id: str) -> Response:
    from functions.credits.apply_credit import ApplicationRequest, apply_credit
    from shared.http.auth import Action

    principal = _principal()
    principal.require(Action.APPLY_CASH)
    request = _body(ApplicationRequest)

    def run() -> dict[str, Any]:
        return {"status": 201, "body": apply_credit(customer_id, request, principal)}

    return _idempotent(f"credits.apply.{customer_id}", principal, request, run)


@app.route("/customers/{customer_id}/credits/refunds", methods=["POST"])
def post_credit_refund(customer_id: str) -> Response:
    from functions.credits.refund_credit import RefundRequest, refund_credit
    from shared.http.auth import Action

    principal = _principal()
    principal.require(Action.APPLY_CASH)
    request = _body(RefundRequest)

    def run() -> dict[str, Any]:
        return refund_credit(customer_id, request, principal)

    return _idempotent(f"credits.refund.{customer_id}", principal, request, run)


# --- HTTP: collections (runs, promises to pay, the worklist, a customer's history) ----------


@app.route("/collection-runs", methods=["POST"])
def post_collection_run() -> Response:
    from functions.collections.run import RunRequest, request_run
    from shared.http.auth import Action

    principal = _principal()
    principal.require(Action.RUN_COLLECTIONS)
    request = _body(RunRequest) if _request().raw_body else RunRequest()
    answer = request_run(request)
    return _json(answer, 200 if answer["dry_run"] else 202)


@app.route("/invoices/{invoice_id}/promises", methods=["POST"])
def post_promise(invoice_id: str) -> Response:
    from functions.collections.promises import PromiseRequest, record_promise
    from shared.http.auth import Action

    principal = _principal()
    principal.require(Action.MANAGE_COLLECTIONS)
    request = _body(PromiseRequest)

    def run() -> dict[str, Any]:
        return {"status": 201, "body": record_promise(invoice_id, request, principal)}

    return _idempotent(f"collections.promise.{invoice_id}", principal, request, run)


@app.route("/collections/worklist", methods=["GET"])
def get_collections_worklist() -> Response:
    from functions.collections.worklist import WorklistQuery, worklist

    return _json(worklist(_query(WorklistQuery), _principal()))


@app.route("/customers/{customer_id}/collections", methods=["GET"])
def get_customer_collections(customer_id: str) -> Response:
    from functions.collections.history import collection_history
    from shared.http.auth import Action

    principal = _principal()
    principal.require(Action.READ)
    return _json(collection_history(customer_id, principal))


# --- HTTP: audit trail (auditor or admin) ----------------------------------------------------


@app.route("/audit", methods=["GET"])
def get_audit_trail() -> Response:
    from functions.audit.trail import AuditQuery, audit_trail
    from shared.http.auth import Action

    _principal().require(Action.READ_AUDIT)
    return _json(audit_trail(_query(AuditQuery)))


@app.route("/audit/verify", methods=["GET"])
def verify_audit_trail() -> Response:
    from functions.audit.trail import VerifyQuery, verify
    from shared.http.auth import Action

    _principal().require(Action.READ_AUDIT)
    return _json(verify(_query(VerifyQuery)))


# --- HTTP: reports (AR aging, KPIs) -----------------------------------------------------------


@app.route("/reports/aging", methods=["GET"])
def get_aging_report() -> Response:
    from functions.reporting.reports import AgingQuery, read_aging
    from shared.http.auth import Action

    _principal().require(Action.READ_REPORTS)
    return _json(read_aging(_query(AgingQuery)))


@app.route("/reports/kpis", methods=["GET"])
def get_kpi_report() -> Response:
    from functions.reporting.reports import KpiQuery, read_kpis
    from shared.http.auth import Action

    _principal().require(Action.READ_REPORTS)
    return _json(read_kpis(_query(KpiQuery)))


# --- HTTP: the journal for the accountants (account codes, trial balance) ----------------------


@app.route("/ledger/journal", methods=["GET"])
def get_journal() -> Response:
    from functions.ledger.journal import JournalQuery, as_csv, read_journal, wants_csv
    from shared.http.auth import Action

    _principal().require(Action.READ_REPORTS)
    query = _query(JournalQuery)
    answer = read_journal(query)
    if not wants_csv(query, _request().headers.get("Accept", "")):
        return _json(answer)
    body, headers = as_csv(answer, query)
    return Response(body=body, status_code=200, headers={**headers})


@app.route("/ledger/trial-balance", methods=["GET"])
def get_trial_balance() -> Response:
    from functions.ledger.journal import TrialBalanceQuery, read_trial_balance
    from shared.http.auth import Action

    _principal().require(Action.READ_REPORTS)
    return _json(read_trial_balance(_query(TrialBalanceQuery)))


# --- HTTP: the finance dashboard (a staff key, or a signed short-lived link) ------------------


@app.route("/dashboard", methods=["GET"])
def get_dashboard() -> Response:
    from functions.reporting import dashboard
    from shared.http.auth import Action

    query = _query(dashboard.DashboardQuery)
    if query.token is not None:
        dashboard.check_token(query.token)  # a browser holding a link: the token is the credential
    else:
        _principal().require(Action.READ_REPORTS)
    return Response(body=dashboard.page(query.as_of), status_code=200, headers=dashboard.HEADERS)


@app.route("/dashboard/links", methods=["POST"])
def post_dashboard_link() -> Response:
    from functions.reporting import dashboard
    from shared.http.auth import Action

    _principal().require(Action.READ_REPORTS)
    request = _request()
    page_url = dashboard.page_url(request.headers, request.context)
    # Minting changes nothing (no Idempotency-Key); the link is a bearer token: never cached.
    body = dashboard.link_wire(dashboard.mint_link(), page_url)
    return _json(body, 201, {"Cache-Control": "no-store"})


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


@app.on_dynamodb_record(stream_arn=TABLE_STREAM, batch_size=100, starting_position="TRIM_HORIZON")
def land_in_lake(event: Any) -> dict[str, Any]:
    from functions.lake.land import land_stream_batch

    retry = land_stream_batch(event.to_dict()["Records"])
    return {"batchItemFailures": [{"itemIdentifier": sequence} for sequence in retry]}


@app.schedule(Rate(5, unit=Rate.MINUTES), description="Republish events the stream path missed")
def sweep_outbox(event: Any) -> dict[str, Any]:
    from functions.outbox.sweep_outbox import sweep

    return sweep().model_dump()
