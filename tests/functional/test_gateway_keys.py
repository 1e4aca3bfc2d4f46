"""Every API key the app issues has a twin in API Gateway holding the same value, in its role's
usage plan: issuing, giving a new secret and revoking keep the twin in step, and an operator can
see how many active keys have none yet (until none, API Gateway cannot require keys)."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from tests.functional.accounts import call
from tests.functional.aws_faults import assert_unavailable, failing_once
from tests.functional.conftest import PARTNER_KEY, World

PARTNER_PLAN = "otc-test-partners"
STAFF_PLAN = "otc-test-staff"


@pytest.fixture
def plans(world: World, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """The partners' and the staff's usage plans, as the stack creates them: name -> id."""
    gateway = world.session.client("apigateway")
    found = {
        name: gateway.create_usage_plan(name=name)["id"] for name in (PARTNER_PLAN, STAFF_PLAN)
    }
    monkeypatch.setenv("PARTNER_USAGE_PLAN_NAME", PARTNER_PLAN)
    monkeypatch.setenv("STAFF_USAGE_PLAN_NAME", STAFF_PLAN)
    return found


def _twins(world: World) -> dict[str, dict[str, Any]]:
    """API Gateway's keys by name, with their values."""
    items = world.session.client("apigateway").get_api_keys(includeValues=True)["items"]
    return {item["name"]: item for item in items}


def _in_plan(world: World, plan_id: str) -> set[str]:
    """The ids of the live API Gateway keys in the plan (AWS drops a deleted key from its plans;
    moto keeps it listed)."""
    gateway = world.session.client("apigateway")
    live = {item["id"] for item in gateway.get_api_keys()["items"]}
    return {key["id"] for key in gateway.get_usage_plan_keys(usagePlanId=plan_id)["items"]} & live


def _keys(client: Any, principal_id: str) -> dict[str, dict[str, Any]]:
    answer = call(client, "GET", f"/principals/{principal_id}/keys")
    assert answer.status == 200, answer.body
    return {key["key_id"]: key for key in answer.body["keys"]}


def _register_partner(client: Any, **request: Any) -> tuple[str, dict[str, Any]]:
    body = {"name": "Buyer ERP", "customer_ids": ["cus_acme"]}
    answer = call(client, "POST", "/partners", body=body, **request)
    assert answer.status == 201, answer.body
    return answer.body["partner"]["id"], answer.body["api_key"]


def _issue(client: Any, principal_id: str, **request: Any) -> Any:
    return call(
        client, "POST", f"/principals/{principal_id}/keys", body={"label": "new"}, **request
    )


def _assert_mirrored(world: World, client: Any, principal_id: str, key: dict[str, Any], plan: str):
    twin = _twins(world)[f"otc-{key['key_id']}"]
    assert twin["value"] == key["secret"] and twin["enabled"]
    assert twin["id"] in _in_plan(world, plan)
    assert _keys(client, principal_id)[key["key_id"]]["gateway_key_id"] == twin["id"]


def test_a_partners_first_key_is_mirrored_in_the_partner_plan(world, client, plans):
    # When an admin registers a partner
    partner_id, key = _register_partner(client)

    # Then its key has one twin holding the same secret, in the partners' plan
    _assert_mirrored(world, client, partner_id, key, plans[PARTNER_PLAN])
    assert _in_plan(world, plans[STAFF_PLAN]) == set()


def test_a_staff_key_is_mirrored_in_the_staff_plan(world, client, plans):
    # When an admin registers a staff member
    answer = call(client, "POST", "/staff", body={"name": "Clerk", "role": "ar_clerk"})

    # Then the key's twin sits in the staff plan
    assert answer.status == 201, answer.body
    staff_id = answer.body["staff"]["id"]
    _assert_mirrored(world, client, staff_id, answer.body["api_key"], plans[STAFF_PLAN])
    assert _in_plan(world, plans[PARTNER_PLAN]) == set()


def test_rotating_a_key_moves_its_twin_and_revoking_it_removes_it(world, client, plans):
    # Given a partner and its first key
    partner_id, first = _register_partner(client)

    # When a second key is issued and the first revoked (a rotation)
    issued = _issue(client, partner_id)
    assert issued.status == 201, issued.body
    second = issued.body["api_key"]
    revoked = call(client, "DELETE", f"/principals/{partner_id}/keys/{first['key_id']}")

    # Then only the second key has a twin, holding its secret
    assert revoked.status == 200, revoked.body
    assert f"otc-{first['key_id']}" not in _twins(world)
    _assert_mirrored(world, client, partner_id, second, plans[PARTNER_PLAN])
    assert len(_in_plan(world, plans[PARTNER_PLAN])) == 1
    # and the revoked key says no twin replaced it
    assert _keys(client, partner_id)[first["key_id"]]["status"] == "revoked"


def test_a_replayed_answer_with_a_new_secret_moves_the_twin_to_it(world, client, plans):
    # Given a key issued under an Idempotency-Key
    partner_id, _ = _register_partner(client)
    idempotency_key = str(uuid.uuid4())
    first = _issue(client, partner_id, idempotency_key=idempotency_key).body["api_key"]

    # When the same request is sent again (its answer shows the key with a new secret)
    again = _issue(client, partner_id, idempotency_key=idempotency_key)

    # Then one twin is left, holding the secret answered last
    assert again.status == 201, again.body
    latest = again.body["api_key"]
    assert latest["key_id"] == first["key_id"] and latest["secret"] != first["secret"]
    assert [n for n in _twins(world) if n == f"otc-{first['key_id']}"] == [f"otc-{first['key_id']}"]
    _assert_mirrored(world, client, partner_id, latest, plans[PARTNER_PLAN])


@pytest.mark.parametrize("operation", ["apigateway.CreateApiKey", "apigateway.CreateUsagePlanKey"])
def test_when_api_gateway_is_throttled_issuing_answers_503_and_the_retry_finishes(
    world, client, plans, operation: str
):
    # Given a partner
    partner_id, first = _register_partner(client)
    idempotency_key = str(uuid.uuid4())

    # When API Gateway throttles while the key is mirrored
    with failing_once(operation, "throttle") as failed:
        refused = _issue(client, partner_id, idempotency_key=idempotency_key)

    # Then the request answers 503 with Retry-After
    assert failed == [operation]
    assert_unavailable(refused)

    # and the retry with the same Idempotency-Key finishes: one more key, mirrored, that works
    retried = _issue(client, partner_id, idempotency_key=idempotency_key)
    assert retried.status == 201, retried.body
    key = retried.body["api_key"]
    assert set(_keys(client, partner_id)) == {first["key_id"], key["key_id"]}
    _assert_mirrored(world, client, partner_id, key, plans[PARTNER_PLAN])
    assert len(_in_plan(world, plans[PARTNER_PLAN])) == 2
    assert call(client, "GET", "/customers/cus_acme", key=key["secret"]).status == 200


def test_when_api_gateway_fails_revoking_answers_503_and_the_retry_removes_the_twin(
    world, client, plans
):
    # Given a partner's key
    partner_id, key = _register_partner(client)

    # When API Gateway cannot be reached while the key is revoked
    with failing_once("apigateway.DeleteApiKey", "unreachable"):
        refused = call(client, "DELETE", f"/principals/{partner_id}/keys/{key['key_id']}")

    # Then 503; the key no longer works, and the retry removes its twin
    assert_unavailable(refused)
    assert call(client, "GET", "/customers/cus_acme", key=key["secret"]).status == 401
    retried = call(client, "DELETE", f"/principals/{partner_id}/keys/{key['key_id']}")
    assert retried.status == 200, retried.body
    assert f"otc-{key['key_id']}" not in _twins(world)


def test_an_admin_sees_which_active_keys_have_no_twin_yet(world, client, plans):
    # Given the keys seeded before mirroring began, and a partner registered since
    before = call(client, "GET", "/gateway-keys")
    _, key = _register_partner(client)

    # When an admin asks
    after = call(client, "GET", "/gateway-keys")

    # Then the seeded keys are counted and named, the mirrored one is not
    assert before.status == after.status == 200, after.body
    assert after.body["active_keys_without_gateway_key"] >= 2
    assert after.body["safe_to_require_gateway_keys"] is False
    assert after.body == before.body
    assert key["key_id"] not in {k["key_id"] for k in after.body["keys"]}
    assert after.body["active_keys_without_gateway_key"] == len(after.body["keys"])


def test_once_every_active_key_has_a_twin_requiring_them_is_safe(world, client, plans):
    # Given a new admin and partner (mirrored), and every older key revoked
    staff = call(client, "POST", "/staff", body={"name": "Admin", "role": "admin"}).body
    admin_key = staff["api_key"]["secret"]
    _register_partner(client)
    for old in call(client, "GET", "/gateway-keys", key=admin_key).body["keys"]:
        path = f"/principals/{old['principal_id']}/keys/{old['key_id']}"
        assert call(client, "DELETE", path, key=admin_key).status == 200

    # When the admin asks
    answer = call(client, "GET", "/gateway-keys", key=admin_key)

    # Then
    assert answer.body == {
        "active_keys_without_gateway_key": 0,
        "safe_to_require_gateway_keys": True,
        "keys": [],
    }


def test_only_an_admin_sees_the_figure(world, client, plans):
    assert call(client, "GET", "/gateway-keys", key=PARTNER_KEY).status == 403
    assert call(client, "GET", "/gateway-keys", key=None).status == 401


def test_without_usage_plans_configured_no_twin_is_made(world, client):
    # When a partner is registered where no usage plan is named (the local stack)
    _register_partner(client)

    # Then API Gateway holds no key
    assert _twins(world) == {}
