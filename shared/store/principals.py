"""Partners, staff and their API keys in the single table.

| item | pk | sk | gsi1pk / gsi1sk |
| --- | --- | --- | --- |
| principal | ``PRINCIPAL#<id>`` | ``PRINCIPAL`` | |
| API key | ``APIKEY#<sha256 of the secret>`` | ``APIKEY`` | ``PRINCIPAL#<id>`` / ``KEY#<key id>`` |

A key item repeats its principal's role and bound customers, so authentication is one GetItem.
The principal item lists its active keys (key id -> the key item's pk) and every key write bumps
its version: rebinding a partner rewrites exactly those key items in the same transaction, and a
key issued or revoked meanwhile makes that transaction fail instead of leaving a key behind.

A key gets a new secret (``rotate_secret``) by moving to the new hash's item, in one transaction
with the principal's list: the item of the old secret goes, so that secret stops working.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from shared import clock
from shared.domain.events import DomainEvent
from shared.domain.principal import ApiKey, PrincipalRecord
from shared.http import auth
from shared.http.auth import Role
from shared.store import outbox, readable, table
from shared.store.table import Delete, Item, Put, Update, Write

KEY_SORT_KEY = "APIKEY"


def principal_key(principal_id: str) -> tuple[str, str]:
    return f"PRINCIPAL#{principal_id}", "PRINCIPAL"


def keys_partition(principal_id: str) -> str:
    return f"PRINCIPAL#{principal_id}"


def to_item(principal: PrincipalRecord) -> Item:
    pk, sk = principal_key(principal.principal_id)
    return {
        "pk": pk,
        "sk": sk,
        "entity": "Principal",
        "principal_id": principal.principal_id,
        "kind": principal.kind,
        "name": principal.name,
        "role": principal.role.value,
        "customer_ids": list(principal.customer_ids),
        "active_keys": dict(principal.active_keys),
        "version": principal.version,
        "created_at": clock.iso(principal.created_at),
        "updated_at": clock.iso(principal.updated_at),
    }


@readable.reader
def from_item(item: Item) -> PrincipalRecord:
    return PrincipalRecord(
        principal_id=item["principal_id"],
        kind=item["kind"],
        name=item["name"],
        role=Role(item["role"]),
        customer_ids=tuple(item.get("customer_ids", [])),
        active_keys=dict(item.get("active_keys", {})),
        version=int(item["version"]),
        created_at=clock.parse(item["created_at"]),
        updated_at=clock.parse(item["updated_at"]),
    )


@readable.reader
def key_from_item(item: Item) -> ApiKey:
    return ApiKey(
        key_id=item["key_id"],
        principal_id=item["principal_id"],
        role=Role(item["role"]),
        label=item.get("label"),
        status=item["status"],
        created_at=clock.parse(item["created_at"]),
        revoked_at=clock.parse_optional(item.get("revoked_at")),
        gateway_key_id=item.get("gateway_key_id"),
    )


def caller(principal: PrincipalRecord) -> auth.Principal:
    """What a key of ``principal`` authenticates as."""
    return auth.Principal(
        principal_id=principal.principal_id,
        role=principal.role,
        customer_ids=frozenset(principal.customer_ids),
    )


def get(principal_id: str) -> PrincipalRecord | None:
    item = table.get(*principal_key(principal_id))
    return from_item(item) if item else None


def _key_item(principal: PrincipalRecord, key: ApiKey, secret: str) -> Item:
    return auth.key_item(
        secret, caller(principal), key_id=key.key_id, created_at=key.created_at, label=key.label
    )


def create(
    principal: PrincipalRecord, key: ApiKey, secret: str, events: Sequence[DomainEvent] = ()
) -> PrincipalRecord:
    """A new principal with its first key (only the secret's hash is stored); returns it as
    stored. Raises ``outbox.StaleStateError`` when the id or the key is taken."""
    item = _key_item(principal, key, secret)
    stored = principal.model_copy(update={"active_keys": {key.key_id: item["pk"]}})
    outbox.commit([Put.new(to_item(stored)), Put.new(item)], events)
    return stored


def add_key(
    principal: PrincipalRecord, key: ApiKey, secret: str, events: Sequence[DomainEvent] = ()
) -> None:
    """Another active key for ``principal`` as read (``outbox.StaleStateError`` if it moved)."""
    item = _key_item(principal, key, secret)
    outbox.commit(
        [
            Put.new(item),
            _key_list_change(principal, key.key_id, item["pk"]),
        ],
        events,
    )


def rotate_secret(principal: PrincipalRecord, key: ApiKey, secret: str) -> PrincipalRecord:
    """Give an active key of ``principal`` (as read) a new secret; the old one stops working.

    The key keeps its id, label and creation date; only the hash it is found by changes. Returns
    the principal as stored; ``outbox.StaleStateError`` if it moved or the key item did.
    """
    old_pk = principal.active_keys[key.key_id]
    item = _key_item(principal, key, secret)
    now = clock.now()
    outbox.commit(
        [
            Delete(
                key=(old_pk, KEY_SORT_KEY),
                condition="key_id = :key_id AND principal_id = :principal_id",
                values={":key_id": key.key_id, ":principal_id": principal.principal_id},
            ),
            Put.new(item),
            _key_list_change(principal, key.key_id, item["pk"], at=now),
        ],
        [],
    )
    return principal.model_copy(
        update={
            "active_keys": {**principal.active_keys, key.key_id: item["pk"]},
            "version": principal.version + 1,
            "updated_at": now,
        }
    )


def revoke_key(principal: PrincipalRecord, key: ApiKey, events: Sequence[DomainEvent]) -> None:
    """Mark an active key of ``principal`` revoked (``key`` is the revoked form)."""
    key_pk = principal.active_keys[key.key_id]
    revoked_at = clock.iso(key.revoked_at or clock.now())
    outbox.commit(
        [
            Update(
                key=(key_pk, KEY_SORT_KEY),
                expression="SET #status = :revoked, revoked_at = :revoked_at",
                condition="#status = :active AND principal_id = :principal_id",
                names={"#status": "status"},
                values={
                    ":revoked": "revoked",
                    ":active": "active",
                    ":revoked_at": revoked_at,
                    ":principal_id": principal.principal_id,
                },
            ),
            _key_list_change(principal, key.key_id, None),
        ],
        events,
    )


def update(before: PrincipalRecord, after: PrincipalRecord, events: Sequence[DomainEvent]) -> None:
    """Replace the principal at the version read; every active key takes its new bindings."""
    writes: list[Write] = [Put.replacing(to_item(after), before.version)]
    if after.customer_ids != before.customer_ids:
        writes += [
            Update(
                key=(key_pk, KEY_SORT_KEY),
                expression="SET customer_ids = :customer_ids",
                condition="attribute_exists(pk) AND principal_id = :principal_id",
                values={
                    ":customer_ids": list(after.customer_ids),
                    ":principal_id": after.principal_id,
                },
            )
            for _, key_pk in sorted(after.active_keys.items())
        ]
    outbox.commit(writes, events)


def record_gateway_key(secret: str, key_id: str, gateway_key_id: str) -> bool:
    """Note beside the key (as found by ``secret``) the API Gateway key that mirrors it; False
    when the key was revoked or got another secret meanwhile (nothing is written then)."""
    note = Update(
        key=(auth.key_pk(auth.hash_key(secret)), KEY_SORT_KEY),
        expression="SET gateway_key_id = :gateway_key_id",
        condition="key_id = :key_id AND #status = :active",
        names={"#status": "status"},
        values={":gateway_key_id": gateway_key_id, ":key_id": key_id, ":active": "active"},
    )
    try:
        outbox.commit([note], [])
    except outbox.StaleStateError:
        return False
    return True


def active_keys_without_gateway_key() -> list[ApiKey]:
    """Every active key no API Gateway key mirrors yet (keys issued before mirroring began):
    while any is left, API Gateway cannot require keys without locking its holder out.

    Reads the whole table (``table.scan``): for an operator deciding when to require keys."""
    found = table.scan(
        "entity = :entity AND #status = :active AND attribute_not_exists(gateway_key_id)",
        {"#status": "status"},
        {":entity": "ApiKey", ":active": "active"},
    )
    return sorted(readable.each(found, key_from_item), key=lambda key: key.key_id)


def find_key(principal_id: str, key_id: str) -> ApiKey | None:
    """The key by its id (gsi1: eventually consistent on AWS, as listings are)."""
    sort_key = f"KEY#{key_id}"
    page = table.query_page(
        keys_partition(principal_id), index="gsi1", sk_from=sort_key, sk_to=sort_key, limit=1
    )
    return key_from_item(page.items[0]) if page.items else None


def get_key(principal: PrincipalRecord, key_id: str) -> ApiKey | None:
    """An active key of ``principal``, read consistently through its pk."""
    key_pk = principal.active_keys.get(key_id)
    item = table.get(key_pk, KEY_SORT_KEY) if key_pk else None
    return key_from_item(item) if item else None


def list_keys(
    principal_id: str, *, limit: int, cursor: str | None = None
) -> tuple[list[ApiKey], str | None]:
    """The principal's keys, active and revoked, oldest first (``InvalidCursorError``)."""
    partition = keys_partition(principal_id)
    if cursor:
        key = table.from_dynamo(table._decode_cursor(cursor))
        if set(key) != {"pk", "sk", "gsi1pk", "gsi1sk"} or key["gsi1pk"] != partition:
            raise table.InvalidCursorError(cursor)
    page = table.query_page(partition, index="gsi1", sk_from="KEY#", limit=limit, cursor=cursor)
    return [key_from_item(item) for item in page.items], page.cursor


def _key_list_change(
    principal: PrincipalRecord, key_id: str, key_pk: str | None, *, at: datetime | None = None
) -> Update:
    """Add or point anew (``key_pk`` given) or drop a key in the principal's list at the
    version read."""
    bump = "version = version + :one, updated_at = :now"
    values: dict[str, Any] = {
        ":one": 1,
        ":now": clock.iso(at or clock.now()),
        ":expected": principal.version,
    }
    if key_pk is None:
        expression = f"REMOVE active_keys.#key_id SET {bump}"
    else:
        expression = f"SET active_keys.#key_id = :key_pk, {bump}"
        values[":key_pk"] = key_pk
    return Update(
        key=principal_key(principal.principal_id),
        expression=expression,
        condition="version = :expected",
        names={"#key_id": key_id},
        values=values,
    )
