"""Partners, staff and API keys over the API: issued once, stored as hashes, rotated, revoked."""

from __future__ import annotations

import json

import pytest

from shared.http.auth import hash_key
from tests.functional.accounts import (
    PROBLEM,
    call,
    create_customer,
    events,
    item,
    new_staff,
    written,
)
from tests.functional.conftest import ADMIN_KEY, PARTNER_KEY


def _new_partner(client, customer_ids=("cus_acme",), **extra):
    answer = call(
        client, "POST", "/partners", body={"name": "Buyer ERP", "customer_ids": list(customer_ids)}
    )
    assert answer.status == 201, answer.body
    return answer.body["partner"], answer.body["api_key"]["secret"], answer.body["api_key"]


def _reads(client, key: str, customer_id: str) -> int:
    return call(client, "GET", f"/customers/{customer_id}", key=key).status


def _assert_problem(answer, status: int, kind: str) -> None:
    assert answer.status == status, answer.body
    assert answer.headers["Content-Type"] == PROBLEM
    assert answer.body["type"].endswith("/" + kind)


def _idempotency_records(world) -> list[dict]:
    from shared.store.table import from_dynamo

    client = world.session.client("dynamodb")
    name = next(n for n in client.list_tables()["TableNames"] if "dempotency" in n)
    return [from_dynamo(i) for i in client.scan(TableName=name)["Items"]]


# --- partners ------------------------------------------------------------------------------


def test_an_admin_registers_a_partner_whose_key_is_shown_once_and_stored_as_a_hash(world, client):
    # When an admin registers a partner bound to cus_acme
    answer = call(
        client, "POST", "/partners", body={"name": "Buyer ERP", "customer_ids": ["cus_acme"]}
    )
    # Then the answer shows the partner and its key's secret, not to be cached
    assert answer.status == 201
    partner, key = answer.body["partner"], answer.body["api_key"]
    assert answer.headers["Location"] == f"/partners/{partner['id']}"
    assert answer.headers["Cache-Control"] == "no-store"
    assert partner["id"].startswith("prt_") and partner["customer_ids"] == ["cus_acme"]
    assert partner["role"] == "partner" and partner["active_keys"] == 1
    secret = key["secret"]
    assert secret.startswith("otc_") and key["key_id"].startswith("key_")
    assert key["status"] == "active" and key["principal_id"] == partner["id"]
    # and the table holds the principal and a key item found by the secret's hash only
    key_item = item(world, f"APIKEY#{hash_key(secret)}", "APIKEY")
    assert key_item is not None
    assert key_item["principal_id"] == partner["id"] and key_item["customer_ids"] == ["cus_acme"]
    assert (key_item["gsi1pk"], key_item["gsi1sk"]) == (
        f"PRINCIPAL#{partner['id']}",
        f"KEY#{key['key_id']}",
    )
    assert item(world, f"PRINCIPAL#{partner['id']}", "PRINCIPAL") is not None
    assert secret not in json.dumps(world.table_items(), default=str)
    assert {e["detail_type"] for e in events(world)} == {"PartnerCreated", "ApiKeyIssued"}
    # and the key works at once, for its customers only
    assert _reads(client, secret, "cus_acme") == 200
    assert _reads(client, secret, "cus_globex") == 404
    # and an admin reads the partner back
    got = call(client, "GET", f"/partners/{partner['id']}")
    assert got.status == 200 and got.body == partner


def test_a_replayed_registration_answers_the_same_partner_with_a_new_secret(world, client):
    # Given a partner registered with an Idempotency-Key
    body = {"name": "Buyer ERP", "customer_ids": ["cus_acme"]}
    first = call(client, "POST", "/partners", body=body, idempotency_key="prt-1")
    # When the request is retried (its answer never arrived)
    again = call(client, "POST", "/partners", body=body, idempotency_key="prt-1")
    # Then it answers the same partner and key id with a new secret: the first one, never
    # stored to replay, stops working, and the new one reads the partner's customer
    assert again.status == 201
    assert again.body["partner"]["id"] == first.body["partner"]["id"]
    assert again.body["api_key"]["key_id"] == first.body["api_key"]["key_id"]
    assert again.body["api_key"]["secret"] not in (None, first.body["api_key"]["secret"])
    assert _reads(client, first.body["api_key"]["secret"], "cus_acme") == 401
    assert _reads(client, again.body["api_key"]["secret"], "cus_acme") == 200
    assert len(events(world, "PartnerCreated")) == 1
    secret = first.body["api_key"]["secret"]
    records = json.dumps(_idempotency_records(world), default=str)
    assert first.body["partner"]["id"] in records  # the record is there ...
    assert secret not in records and hash_key(secret) not in records  # ... without the secret


@pytest.mark.parametrize(
    ("body", "status", "kind", "pointers"),
    [
        (
            {"name": "P", "customer_ids": ["cus_acme", "cus_nope"]},
            422,
            "unknown-customer",
            {"#/customer_ids/1"},
        ),
        (
            {"name": "P", "customer_ids": ["cus_acme", "cus_acme"]},
            422,
            "validation-error",
            {"#/customer_ids"},
        ),
        ({"name": "", "customer_ids": []}, 422, "validation-error", {"#/name"}),
        ({"name": "P"}, 422, "validation-error", {"#/customer_ids"}),
        ({"name": "P", "customer_ids": "cus_acme"}, 422, "validation-error", {"#/customer_ids"}),
        ({"name": "P", "customer_ids": [], "role": "admin"}, 422, "validation-error", {"#/role"}),
        (b"{", 400, "malformed-json", None),
    ],
    ids=["unknown-customer", "duplicate", "empty-name", "no-customers", "string", "role", "json"],
)
def test_bad_partner_registrations_write_nothing(world, client, body, status, kind, pointers):
    before = written(world)
    answer = call(client, "POST", "/partners", body=body)
    _assert_problem(answer, status, kind)
    if pointers is not None:
        assert {error["pointer"] for error in answer.body["errors"]} == pointers
    assert written(world) == before


def test_rebinding_a_partner_changes_what_its_existing_keys_may_see(world, client):
    # Given a partner bound to cus_acme with two keys (rotated)
    partner, first_key, _ = _new_partner(client, ["cus_acme"])
    second = call(client, "POST", f"/principals/{partner['id']}/keys", body={"label": "second"})
    second_key = second.body["api_key"]["secret"]
    version = call(client, "GET", f"/partners/{partner['id']}").body["version"]
    # When an admin rebinds it to cus_globex
    answer = call(
        client,
        "PATCH",
        f"/partners/{partner['id']}",
        body={"version": version, "customer_ids": ["cus_globex"]},
    )
    # Then the partner and both keys follow at once
    assert answer.status == 200, answer.body
    assert answer.body["customer_ids"] == ["cus_globex"]
    assert answer.body["version"] == version + 1
    for key in (first_key, second_key):
        assert _reads(client, key, "cus_acme") == 404
        assert _reads(client, key, "cus_globex") == 200
        listed = call(client, "GET", "/customers", key=key).body["customers"]
        assert [c["id"] for c in listed] == ["cus_globex"]
    [updated] = events(world, "PartnerUpdated")
    assert json.loads(updated["detail"])["data"]["changes"] == {
        "customer_ids": {"before": ["cus_acme"], "after": ["cus_globex"]}
    }


def test_rebinding_with_a_stale_version_or_an_unknown_customer_writes_nothing(world, client):
    # Given a partner at version 1
    partner, key, _ = _new_partner(client)
    path = f"/partners/{partner['id']}"
    before = written(world)
    # When it is rebound from an old version, or to a customer that does not exist
    stale = call(client, "PATCH", path, body={"version": 9, "customer_ids": ["cus_globex"]})
    unknown = call(
        client, "PATCH", path, body={"version": 1, "customer_ids": ["cus_globex", "cus_nope"]}
    )
    # Then both are refused and nothing changed
    _assert_problem(stale, 409, "version-mismatch")
    _assert_problem(unknown, 422, "unknown-customer")
    assert unknown.body["errors"] == [
        {"pointer": "#/customer_ids/1", "detail": "customer cus_nope does not exist"}
    ]
    assert written(world) == before
    assert _reads(client, key, "cus_acme") == 200


def test_a_partner_key_can_be_bound_to_a_customer_created_later(world, client):
    customer = create_customer(client)
    partner, key, _ = _new_partner(client, ["cus_acme"])
    assert _reads(client, key, customer["id"]) == 404
    answer = call(
        client,
        "PATCH",
        f"/partners/{partner['id']}",
        body={"version": 1, "customer_ids": ["cus_acme", customer["id"]]},
    )
    assert answer.status == 200
    assert _reads(client, key, customer["id"]) == 200


# --- staff ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("role", "may_open_accounts", "may_decide_credit"),
    [
        ("admin", True, True),
        ("ar_clerk", True, False),
        ("credit_manager", False, True),
        ("auditor", False, False),
    ],
)
def test_staff_keys_carry_their_role(world, client, role, may_open_accounts, may_decide_credit):
    # Given a staff member registered with a role
    answer = call(client, "POST", "/staff", body={"name": "Sam", "role": role})
    assert answer.status == 201
    staff, key = answer.body["staff"], answer.body["api_key"]["secret"]
    assert staff["id"].startswith("stf_") and staff["role"] == role
    assert "customer_ids" not in staff
    assert answer.headers["Location"] == f"/staff/{staff['id']}"
    assert call(client, "GET", f"/staff/{staff['id']}").body == staff
    [created] = events(world, "StaffCreated")
    assert json.loads(created["detail"])["data"]["role"] == role
    # Then its key may do what the role allows
    opened = call(
        client, "POST", "/customers", key=key, body={**_minimal_customer(), "credit_limit": "0"}
    )
    assert (opened.status == 201) is may_open_accounts
    limit = call(
        client, "PATCH", "/customers/cus_acme", key=key, body={"version": 1, "credit_limit": "1"}
    )
    assert (limit.status == 200) is may_decide_credit
    assert call(client, "GET", "/customers/cus_globex", key=key).status == 200


def _minimal_customer() -> dict:
    return {
        "legal_name": "Staff Test Ltd",
        "billing_email": "ap@staff.example",
        "currency": "GBP",
        "billing_address": {
            "line1": "1 Road",
            "city": "Leeds",
            "postal_code": "LS1",
            "country": "GB",
        },
    }


def test_staff_cannot_be_registered_as_a_partner_role(world, client):
    before = written(world)
    answer = call(client, "POST", "/staff", body={"name": "Sam", "role": "partner"})
    _assert_problem(answer, 422, "validation-error")
    assert written(world) == before


def test_a_partner_is_not_staff_and_staff_is_not_a_partner(world, client):
    partner, _, _ = _new_partner(client)
    staff_id, _ = new_staff(client, "auditor")
    _assert_problem(call(client, "GET", f"/staff/{partner['id']}"), 404, "not-found")
    _assert_problem(call(client, "GET", f"/partners/{staff_id}"), 404, "not-found")
    patched = call(client, "PATCH", f"/partners/{staff_id}", body={"version": 1, "name": "X"})
    _assert_problem(patched, 404, "not-found")


# --- who may manage access -----------------------------------------------------------------


@pytest.mark.parametrize("role", ["credit_manager", "ar_clerk", "auditor", "partner"])
def test_only_admins_manage_access(world, client, role):
    # Given a caller that is not an admin
    key = PARTNER_KEY if role == "partner" else new_staff(client, role)[1]
    before = written(world)
    # When it tries every access endpoint
    answers = [
        call(client, "POST", "/partners", key=key, body={"name": "P", "customer_ids": []}),
        call(client, "POST", "/staff", key=key, body={"name": "S", "role": "admin"}),
        call(client, "GET", "/partners/prt_demo", key=key),
        call(client, "PATCH", "/partners/prt_demo", key=key, body={"version": 1, "name": "X"}),
        call(client, "GET", "/staff/stf_admin", key=key),
        call(client, "POST", "/principals/stf_admin/keys", key=key),
        call(client, "GET", "/principals/stf_admin/keys", key=key),
        call(client, "DELETE", "/principals/prt_demo/keys/key_x", key=key),
    ]
    # Then each is forbidden and nothing is written
    for answer in answers:
        _assert_problem(answer, 403, "forbidden")
    assert written(world) == before


# --- keys: rotation and revocation ---------------------------------------------------------


def test_a_rotated_key_and_the_old_one_both_work_until_the_old_is_revoked(world, client):
    # Given a partner with its first key
    partner, old_key, old = _new_partner(client)
    keys_path = f"/principals/{partner['id']}/keys"
    # When an admin issues a second key (no body needed)
    rotated = call(client, "POST", keys_path)
    assert rotated.status == 201
    assert rotated.headers["Cache-Control"] == "no-store"
    new_key = rotated.body["api_key"]["secret"]
    # Then both keys work
    assert _reads(client, old_key, "cus_acme") == _reads(client, new_key, "cus_acme") == 200
    # When the old key is revoked
    revoked = call(client, "DELETE", f"{keys_path}/{old['key_id']}")
    # Then it answers 401 from then on, and the new one still works
    assert revoked.status == 200
    assert revoked.body["status"] == "revoked" and revoked.body["revoked_at"]
    answer = call(client, "GET", "/customers/cus_acme", key=old_key)
    _assert_problem(answer, 401, "unauthorized")
    assert _reads(client, new_key, "cus_acme") == 200
    # and a rebind later does not bring the revoked key back
    version = call(client, "GET", f"/partners/{partner['id']}").body["version"]
    call(client, "PATCH", f"/partners/{partner['id']}", body={"version": version, "name": "Y"})
    assert _reads(client, old_key, "cus_acme") == 401
    # and revoking again changes nothing
    before = written(world)
    again = call(client, "DELETE", f"{keys_path}/{old['key_id']}")
    assert again.status == 200 and again.body["status"] == "revoked"
    assert written(world) == before
    assert [e["detail_type"] for e in events(world, "ApiKeyRevoked")] == ["ApiKeyRevoked"]


def test_listing_keys_shows_ids_status_and_dates_never_secrets_or_hashes(world, client):
    # Given a partner with a revoked first key and a labelled second one
    partner, first_secret, first = _new_partner(client)
    keys_path = f"/principals/{partner['id']}/keys"
    second = call(client, "POST", keys_path, body={"label": "ERP prod"}).body["api_key"]
    call(client, "DELETE", f"{keys_path}/{first['key_id']}")
    # When an admin lists them
    listed = call(client, "GET", keys_path)
    # Then both appear with their status, and nothing secret does
    assert listed.status == 200
    by_id = {key["key_id"]: key for key in listed.body["keys"]}
    assert by_id[first["key_id"]]["status"] == "revoked"
    assert by_id[second["key_id"]]["status"] == "active"
    assert by_id[second["key_id"]]["label"] == "ERP prod"
    for key in listed.body["keys"]:
        assert set(key) == {
            "key_id",
            "principal_id",
            "role",
            "label",
            "status",
            "created_at",
            "revoked_at",
            "gateway_key_id",  # the id of its API Gateway twin, not its value
        }
    text = json.dumps(listed.body)
    for secret in (first_secret, second["secret"]):
        assert secret not in text and hash_key(secret) not in text
    assert "APIKEY#" not in text
    # and pages hold one key each when asked
    page = call(client, "GET", f"{keys_path}?limit=1")
    assert len(page.body["keys"]) == 1 and page.body["next_cursor"]
    rest = call(client, "GET", f"{keys_path}?limit=1&cursor={page.body['next_cursor']}")
    assert len(rest.body["keys"]) == 1


def test_a_cursor_of_another_principals_keys_is_refused(world, client):
    partner, _, _ = _new_partner(client)
    call(client, "POST", f"/principals/{partner['id']}/keys")
    cursor = call(client, "GET", f"/principals/{partner['id']}/keys?limit=1").body["next_cursor"]
    answer = call(client, "GET", f"/principals/stf_admin/keys?cursor={cursor}")
    _assert_problem(answer, 400, "invalid-query")


def test_the_demo_admin_may_rotate_its_own_key(world, client):
    rotated = call(client, "POST", "/principals/stf_admin/keys", body={"label": "laptop"})
    assert rotated.status == 201
    assert (
        call(client, "GET", "/partners/prt_demo", key=rotated.body["api_key"]["secret"]).status
        == 200
    )
    assert call(client, "GET", "/partners/prt_demo", key=ADMIN_KEY).status == 200


def test_keys_of_missing_principals_and_missing_keys_answer_404(world, client):
    _assert_problem(call(client, "POST", "/principals/prt_nope/keys"), 404, "not-found")
    _assert_problem(call(client, "GET", "/principals/prt_nope/keys"), 404, "not-found")
    _assert_problem(call(client, "DELETE", "/principals/prt_demo/keys/key_nope"), 404, "not-found")
    _assert_problem(call(client, "DELETE", "/principals/prt_nope/keys/key_nope"), 404, "not-found")


def test_a_principal_holds_at_most_five_active_keys(world, client):
    partner, _, _ = _new_partner(client)
    keys_path = f"/principals/{partner['id']}/keys"
    for _ in range(4):
        assert call(client, "POST", keys_path).status == 201
    before = written(world)
    sixth = call(client, "POST", keys_path)
    _assert_problem(sixth, 409, "too-many-keys")
    assert written(world) == before


def test_a_replayed_key_issue_is_scoped_to_its_principal(world, client):
    # Given the same Idempotency-Key used to issue keys for two principals
    one = call(client, "POST", "/principals/prt_demo/keys", idempotency_key="rot-1")
    two = call(client, "POST", "/principals/stf_admin/keys", idempotency_key="rot-1")
    # Then each got its own key
    assert one.status == two.status == 201
    assert one.body["api_key"]["principal_id"] == "prt_demo"
    assert two.body["api_key"]["principal_id"] == "stf_admin"
    assert two.body["api_key"]["secret"] is not None


@pytest.mark.parametrize(
    "body", [{"label": 7}, {"label": ""}, {"scope": "all"}], ids=["number", "empty", "extra"]
)
def test_bad_key_requests_write_nothing(world, client, body):
    before = written(world)
    answer = call(client, "POST", "/principals/prt_demo/keys", body=body)
    _assert_problem(answer, 422, "validation-error")
    assert written(world) == before


# --- nothing secret in the audit trail -----------------------------------------------------


def test_no_event_carries_a_key_or_its_hash(world, client):
    # Given partners and staff registered, keys rotated and revoked
    partner, partner_secret, first = _new_partner(client)
    _, staff_secret = new_staff(client, "credit_manager")
    keys_path = f"/principals/{partner['id']}/keys"
    rotated_secret = call(client, "POST", keys_path).body["api_key"]["secret"]
    call(client, "DELETE", f"{keys_path}/{first['key_id']}")
    call(client, "PATCH", f"/partners/{partner['id']}", body={"version": 3, "name": "Renamed"})
    secrets = [partner_secret, staff_secret, rotated_secret, PARTNER_KEY, ADMIN_KEY]
    # When the audit trail (which is also the outbox) is read
    trail = [i for i in world.table_items() if i.get("entity") == "Event"]
    # Then every kind of access event is there, and none holds a secret or a hash of one
    assert {e["detail_type"] for e in trail if e["entity"] == "Event"} >= {
        "PartnerCreated",
        "StaffCreated",
        "ApiKeyIssued",
        "ApiKeyRevoked",
        "PartnerUpdated",
    }
    text = json.dumps(trail, default=str)
    for secret in secrets:
        assert secret not in text and hash_key(secret) not in text
    assert "APIKEY#" not in text and "otc_" not in text
