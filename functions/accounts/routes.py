"""HTTP routes of accounts: customers, partners, staff and their API keys."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from chalice import Response
from pydantic import BaseModel

from shared.domain.access import Action
from shared.http.routing import Answer, Routes, any_of, json_response

if TYPE_CHECKING:
    from shared.domain.principal import IssuedKey, Kind
    from shared.http.auth import Principal

routes = Routes(__name__)


@routes.route("/customers", methods=["POST"], requires=Action.MANAGE_CUSTOMERS)
def post_customer(principal: Principal) -> Response:
    from functions.accounts.create_customer import create_customer
    from shared.domain.customer import CustomerRequest

    request = routes.json_body(CustomerRequest)

    def create() -> Answer:
        customer = create_customer(request, principal)
        location = f"/customers/{customer.customer_id}"
        return {"status": 201, "body": customer.to_wire(), "headers": {"Location": location}}

    return routes.once("customers.create", principal, request, create)


@routes.route("/customers", methods=["GET"], requires=Action.READ)
def list_customers(principal: Principal) -> Response:
    from functions.accounts.list_customers import list_customers
    from functions.accounts.search_customers import CustomerQuery, search_customers

    query = routes.query(CustomerQuery)
    find = search_customers if query.q is not None else list_customers
    return json_response(find(principal, query).to_wire())


@routes.route("/customers/{customer_id}", methods=["GET"], requires=Action.READ)
def get_customer(customer_id: str, principal: Principal) -> Response:
    from functions.accounts.get_customer import get_customer

    return json_response(get_customer(customer_id, principal).to_wire())


# Credit fields need DECIDE_CREDIT, the others MANAGE_CUSTOMERS: the use case checks which.
@routes.route(
    "/customers/{customer_id}",
    methods=["PATCH"],
    requires=any_of(Action.MANAGE_CUSTOMERS, Action.DECIDE_CREDIT),
)
def patch_customer(customer_id: str, principal: Principal) -> Response:
    from functions.accounts.update_customer import update_customer
    from shared.domain.customer import CustomerPatch

    return json_response(
        update_customer(customer_id, routes.json_body(CustomerPatch), principal).to_wire()
    )


# --- partners and staff, each created with its first API key ----------------------------------


@routes.route("/partners", methods=["POST"], requires=Action.MANAGE_ACCESS)
def post_partner(principal: Principal) -> Response:
    from functions.accounts.create_partner import create_partner
    from shared.domain.principal import PartnerRequest

    return _create(
        "partner", "partners", principal, routes.json_body(PartnerRequest), create_partner
    )


@routes.route("/staff", methods=["POST"], requires=Action.MANAGE_ACCESS)
def post_staff(principal: Principal) -> Response:
    from functions.accounts.create_staff import create_staff
    from shared.domain.principal import StaffRequest

    return _create("staff", "staff", principal, routes.json_body(StaffRequest), create_staff)


def _create(
    kind: Kind,
    collection: str,
    principal: Principal,
    request: BaseModel,
    create: Callable[[Any, Principal], IssuedKey],
) -> Response:
    """POST /partners or /staff: the principal and its first key (whose secret shows once)."""

    def run() -> tuple[Answer, str]:
        issued = create(request, principal)
        created, key = issued.principal.to_wire(), issued.key_wire(with_secret=False)
        location = f"/{collection}/{issued.principal.principal_id}"
        answer = {"status": 201, "body": {kind: created, "api_key": key}}
        answer["headers"] = {"Location": location}
        return answer, issued.secret.get_secret_value()

    return _issuing(f"{collection}.create", principal, request, run)


@routes.route("/partners/{partner_id}", methods=["GET"], requires=Action.MANAGE_ACCESS)
def get_partner(partner_id: str) -> Response:
    from functions.accounts.get_principal import find_principal

    return json_response(find_principal(partner_id, "partner").to_wire())


@routes.route("/partners/{partner_id}", methods=["PATCH"], requires=Action.MANAGE_ACCESS)
def patch_partner(partner_id: str, principal: Principal) -> Response:
    from functions.accounts.update_partner import update_partner
    from shared.domain.principal import PartnerPatch

    return json_response(
        update_partner(partner_id, routes.json_body(PartnerPatch), principal).to_wire()
    )


@routes.route("/staff/{staff_id}", methods=["GET"], requires=Action.MANAGE_ACCESS)
def get_staff(staff_id: str) -> Response:
    from functions.accounts.get_principal import find_principal

    return json_response(find_principal(staff_id, "staff").to_wire())


# --- API keys ------------------------------------------------------------------------------------


@routes.route("/principals/{principal_id}/keys", methods=["POST"], requires=Action.MANAGE_ACCESS)
def post_principal_key(principal_id: str, principal: Principal) -> Response:
    from functions.accounts.issue_key import issue_key
    from shared.domain.principal import KeyRequest

    request = routes.optional_body(KeyRequest)

    def issue() -> tuple[Answer, str]:
        issued = issue_key(principal_id, request, principal)
        answer = {"status": 201, "body": {"api_key": issued.key_wire(with_secret=False)}}
        return answer, issued.secret.get_secret_value()

    return _issuing(f"principals.keys.issue#{principal_id}", principal, request, issue)


@routes.route("/principals/{principal_id}/keys", methods=["GET"], requires=Action.MANAGE_ACCESS)
def list_principal_keys(principal_id: str) -> Response:
    from functions.accounts.list_keys import list_keys
    from functions.accounts.paging import PageQuery

    return json_response(list_keys(principal_id, routes.query(PageQuery)).to_wire())


@routes.route(
    "/principals/{principal_id}/keys/{key_id}", methods=["DELETE"], requires=Action.MANAGE_ACCESS
)
def revoke_principal_key(principal_id: str, key_id: str, principal: Principal) -> Response:
    from functions.accounts.revoke_key import revoke_key

    return json_response(revoke_key(principal_id, key_id, principal).to_wire())


@routes.route("/gateway-keys", methods=["GET"], requires=Action.MANAGE_ACCESS)
def gateway_key_coverage() -> Response:
    from functions.accounts.gateway_keys import coverage

    return json_response(coverage())


def _issuing(
    operation: str,
    principal: Principal,
    payload: BaseModel,
    issue: Callable[[], tuple[Answer, str]],
) -> Response:
    """``routes.once`` for answers that show a new API key's secret.

    The secret reaches the caller once and never the idempotency record (nor anything else that
    is stored). A replay means the first answer, the only place its secret ever was, did not
    reach the caller (a lost connection, or a Lambda that died after saving it): the replay
    answers the same key with a new secret, and the first one stops working (``"secret": null``
    when the key was revoked since).
    """
    shown: list[str] = []

    def run() -> Answer:
        answer, secret = issue()
        shown.append(secret)
        return dict(answer)

    response = routes.once(operation, principal, payload, run)
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
