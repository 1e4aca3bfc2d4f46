"""HTTP routes of the audit trail (auditor or admin): read it and verify its chains."""

from __future__ import annotations

from chalice import Response

from shared.domain.access import Action
from shared.http.routing import Routes, json_response

routes = Routes(__name__)


@routes.route("/audit", methods=["GET"], requires=Action.READ_AUDIT)
def get_audit_trail() -> Response:
    from functions.audit.trail import AuditQuery, audit_trail

    return json_response(audit_trail(routes.query(AuditQuery)))


@routes.route("/audit/verify", methods=["GET"], requires=Action.READ_AUDIT)
def verify_audit_trail() -> Response:
    from functions.audit.trail import VerifyQuery, verify

    return json_response(verify(routes.query(VerifyQuery)))
