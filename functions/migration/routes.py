"""HTTP routes of data migration: upload a CSV file, follow its import, read its rows in error.

API Gateway allows one variable name per path level, so POST /imports/{kind} and
GET /imports/{import_id} share one: ``import_ref`` is the kind for the POST, the id otherwise.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from chalice import Response

from shared.domain.access import Action
from shared.http.routing import Answer, Routes, json_response, staff

if TYPE_CHECKING:
    from shared.http.auth import Principal

routes = Routes(__name__)
VIEWER = staff(Action.READ, "view imports")


@routes.route(
    "/imports/{import_ref}",
    methods=["POST"],
    content_types=["text/csv"],
    requires=Action.IMPORT_DATA,
)
def post_import(import_ref: str, principal: Principal) -> Response:
    from functions.migration.upload import receive, start

    upload = receive(import_ref, routes.request.raw_body)

    def run() -> Answer:
        answer = start(upload, principal)
        return {"status": 202, "body": answer, "headers": {"Location": answer["status_url"]}}

    return routes.once(f"imports.upload.{upload.kind}", principal, upload.fingerprint, run)


@routes.route("/imports/{import_ref}", methods=["GET"], requires=VIEWER)
def get_import(import_ref: str) -> Response:
    from functions.migration.read import get_import as read_import

    # no-store: the answer holds a presigned link to the error report
    return json_response(read_import(import_ref), headers={"Cache-Control": "no-store"})


@routes.route("/imports/{import_ref}/errors", methods=["GET"], requires=VIEWER)
def list_import_errors(import_ref: str) -> Response:
    from functions.accounts.paging import PageQuery
    from functions.migration.read import list_errors

    return json_response(list_errors(import_ref, routes.query(PageQuery)))
