"""HTTP routes of collections: runs, promises to pay, the worklist, a customer's history and
statement."""

from __future__ import annotations

from typing import TYPE_CHECKING

from chalice import Response

from shared.domain.access import Action
from shared.http.routing import Answer, Routes, json_response

if TYPE_CHECKING:
    from shared.http.auth import Principal

routes = Routes(__name__)


@routes.route("/collection-runs", methods=["POST"], requires=Action.RUN_COLLECTIONS)
def post_collection_run() -> Response:
    from functions.dunning.run import CollectionRunRequest, request_run

    answer = request_run(routes.optional_body(CollectionRunRequest))
    return json_response(answer, 200 if answer["dry_run"] else 202)


@routes.route(
    "/invoices/{invoice_id}/promises", methods=["POST"], requires=Action.MANAGE_COLLECTIONS
)
def post_promise(invoice_id: str, principal: Principal) -> Response:
    from functions.dunning.promises import PromiseRequest, record_promise

    request = routes.json_body(PromiseRequest)

    def run() -> Answer:
        return {"status": 201, "body": record_promise(invoice_id, request, principal)}

    return routes.once(f"collections.promise.{invoice_id}", principal, request, run)


@routes.route("/collections/worklist", methods=["GET"], requires=Action.MANAGE_COLLECTIONS)
def get_collections_worklist() -> Response:
    from functions.dunning.worklist import WorklistQuery, worklist

    return json_response(worklist(routes.query(WorklistQuery)))


@routes.route("/customers/{customer_id}/collections", methods=["GET"], requires=Action.READ)
def get_customer_collections(customer_id: str, principal: Principal) -> Response:
    from functions.dunning.history import collection_history

    return json_response(collection_history(customer_id, principal))


@routes.route("/customers/{customer_id}/statement", methods=["GET"], requires=Action.READ)
def get_customer_statement(customer_id: str, principal: Principal) -> Response:
    from functions.dunning.statement import StatementFormat, StatementQuery, read_statement

    query = routes.query(StatementQuery)
    answer = read_statement(customer_id, query, principal)
    # no-store: the PDF answer is a bearer link to the document
    pdf = query.format is StatementFormat.PDF
    return json_response(answer, headers={"Cache-Control": "no-store"} if pdf else None)
