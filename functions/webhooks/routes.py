"""HTTP routes of a partner's webhook: register, read, remove it, and its deliveries.

An admin manages any partner's webhook, a partner its own: another partner's answers 404 (the
use case scopes it, as it is data).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from chalice import Response

from shared.domain.access import Action
from shared.http.routing import Answer, Routes, json_response, no_content, partner_itself_or

if TYPE_CHECKING:
    from shared.http.auth import Principal

routes = Routes(__name__)
OWNER = partner_itself_or(Action.MANAGE_ACCESS)


@routes.route("/partners/{partner_id}/webhook", methods=["PUT"], requires=OWNER)
def put_partner_webhook(partner_id: str, principal: Principal) -> Response:
    from functions.webhooks.manage import register, scope
    from shared.domain.webhooks import WebhookRequest

    scope(principal, partner_id)
    webhook, secret = register(partner_id, routes.json_body(WebhookRequest))
    # The only answer that ever holds the signing secret.
    wire = {**webhook.to_wire(), "secret": secret}
    return json_response(wire, headers={"Cache-Control": "no-store"})


@routes.route("/partners/{partner_id}/webhook", methods=["GET"], requires=OWNER)
def get_partner_webhook(partner_id: str, principal: Principal) -> Response:
    from functions.webhooks.manage import read, scope

    scope(principal, partner_id)
    return json_response(read(partner_id).to_wire())


@routes.route("/partners/{partner_id}/webhook", methods=["DELETE"], requires=OWNER)
def delete_partner_webhook(partner_id: str, principal: Principal) -> Response:
    from functions.webhooks.manage import remove, scope

    scope(principal, partner_id)
    remove(partner_id)
    return no_content()


@routes.route("/partners/{partner_id}/webhook/deliveries", methods=["GET"], requires=OWNER)
def list_webhook_deliveries(partner_id: str, principal: Principal) -> Response:
    from functions.webhooks.manage import DeliveryQuery, list_deliveries, scope

    scope(principal, partner_id)
    return json_response(list_deliveries(partner_id, routes.query(DeliveryQuery)))


@routes.route(
    "/partners/{partner_id}/webhook/deliveries/{delivery_id}/replay",
    methods=["POST"],
    requires=OWNER,
)
def replay_webhook_delivery(partner_id: str, delivery_id: str, principal: Principal) -> Response:
    from functions.webhooks.deliver import ReplayRequest, replay
    from functions.webhooks.manage import scope

    scope(principal, partner_id)
    request = routes.optional_body(ReplayRequest)

    def run() -> Answer:
        return {"status": 200, "body": replay(partner_id, delivery_id).to_wire()}

    return routes.once(f"webhooks.replay.{partner_id}.{delivery_id}", principal, request, run)
