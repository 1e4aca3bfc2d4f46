"""Who may call the API: partners (bound to customers) and staff (with a role), and their keys.

A principal holds any number of API keys (up to ``MAX_ACTIVE_KEYS`` active at once, so a client
can roll over: issue a new key, deploy it, revoke the old). A key's secret is shown once, when it
is issued; the table keeps only its SHA-256 hash, and no event, log line or answer carries either.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import ConfigDict, Field, SecretStr, StringConstraints, field_validator

from shared import clock, ids
from shared.domain.access import Role  # imported from here too
from shared.domain.customer import SOURCE
from shared.domain.events import DomainEvent
from shared.domain.json_schema import NOT_NULL, Keywords
from shared.domain.text import SingleLine
from shared.model import Model

MAX_ACTIVE_KEYS = 5
MAX_BOUND_CUSTOMERS = 100

Name = Annotated[str, SingleLine(max_length=120)]
CustomerId = Annotated[str, StringConstraints(min_length=1, max_length=64)]
CustomerIds = Annotated[
    list[CustomerId], Field(max_length=MAX_BOUND_CUSTOMERS), Keywords(uniqueItems=True)
]  # unique: each validator checks it
Kind = Literal["partner", "staff"]
StaffRole = Literal["admin", "credit_manager", "ar_clerk", "auditor"]
KeyStatus = Literal["active", "revoked"]


class PrincipalTransitionError(Exception):
    """The principal or key is not in a state that allows the move (the API answers 409)."""


def _unique(customer_ids: list[str]) -> list[str]:
    if len(set(customer_ids)) != len(customer_ids):
        raise ValueError("customer ids must be unique")
    return customer_ids


class PartnerRequest(Model):
    """POST /partners: a partner system and the customers it acts for."""

    model_config = ConfigDict(extra="forbid", strict=True)

    name: Name
    customer_ids: CustomerIds

    @field_validator("customer_ids")
    @classmethod
    def _unique_ids(cls, customer_ids: list[str]) -> list[str]:
        return _unique(customer_ids)


class PartnerPatch(Model):
    """PATCH /partners/{id}: the customers it acts for from now on (its keys follow at once)."""

    model_config = ConfigDict(extra="forbid", strict=True)

    version: int = Field(ge=1)
    customer_ids: Annotated[CustomerIds | None, NOT_NULL] = None
    name: Annotated[Name | None, NOT_NULL] = None

    @field_validator("customer_ids", "name")
    @classmethod
    def _not_null(cls, value: Any) -> Any:
        if value is None:
            raise ValueError("may not be null (leave the field out to keep it)")
        return _unique(value) if isinstance(value, list) else value


class StaffRequest(Model):
    """POST /staff: a person (or staff tool) with one role."""

    model_config = ConfigDict(extra="forbid", strict=True)

    name: Name
    role: StaffRole


class KeyRequest(Model):
    """POST /principals/{id}/keys: an optional label to tell keys apart (e.g. "ERP prod")."""

    model_config = ConfigDict(extra="forbid", strict=True)

    label: Name | None = None


class PrincipalRecord(Model):
    """A partner or a staff member, as stored.

    ``active_keys`` maps each active key id to the table key of its item (the SHA-256 of the
    secret, not the secret): binding a partner to other customers rewrites those items in the
    same transaction, so authentication stays one GetItem. It never leaves the store.
    """

    model_config = ConfigDict(frozen=True)

    principal_id: str
    kind: Kind
    name: str
    role: Role
    customer_ids: tuple[str, ...] = ()
    active_keys: dict[str, str] = Field(default_factory=dict, repr=False)
    version: int = 1
    created_at: datetime
    updated_at: datetime

    def to_wire(self) -> dict[str, Any]:
        wire: dict[str, Any] = {
            "id": self.principal_id,
            "kind": self.kind,
            "name": self.name,
            "role": self.role.value,
        }
        if self.kind == "partner":
            wire["customer_ids"] = list(self.customer_ids)
        return wire | {
            "active_keys": len(self.active_keys),
            "version": self.version,
            "created_at": clock.iso(self.created_at),
            "updated_at": clock.iso(self.updated_at),
        }


class ApiKey(Model):
    """What is known about a key besides its secret (which is never stored)."""

    model_config = ConfigDict(frozen=True)

    key_id: str
    principal_id: str
    role: Role
    label: str | None = None
    status: KeyStatus = "active"
    created_at: datetime
    revoked_at: datetime | None = None
    gateway_key_id: str | None = None  # the API Gateway key that mirrors it (usage plans)

    def to_wire(self) -> dict[str, Any]:
        return {
            "key_id": self.key_id,
            "principal_id": self.principal_id,
            "role": self.role.value,
            "label": self.label,
            "status": self.status,
            "created_at": clock.iso(self.created_at),
            "revoked_at": clock.iso(self.revoked_at) if self.revoked_at else None,
            "gateway_key_id": self.gateway_key_id,
        }


class IssuedKey(Model):
    """A key just issued, with its secret: answered once, never stored, logged or evented."""

    model_config = ConfigDict(frozen=True)

    principal: PrincipalRecord
    key: ApiKey
    secret: SecretStr

    def key_wire(self, *, with_secret: bool) -> dict[str, Any]:
        secret = self.secret.get_secret_value() if with_secret else None
        return {**self.key.to_wire(), "secret": secret}


def new_partner(
    request: PartnerRequest, actor: str, *, principal_id: str | None = None
) -> tuple[PrincipalRecord, DomainEvent]:
    now = clock.now()
    partner = PrincipalRecord(
        principal_id=principal_id or ids.new_id("prt"),
        kind="partner",
        name=request.name,
        role=Role.PARTNER,
        customer_ids=tuple(sorted(request.customer_ids)),
        created_at=now,
        updated_at=now,
    )
    return partner, _event("PartnerCreated", partner, actor)


def new_staff(
    request: StaffRequest, actor: str, *, principal_id: str | None = None
) -> tuple[PrincipalRecord, DomainEvent]:
    now = clock.now()
    staff = PrincipalRecord(
        principal_id=principal_id or ids.new_id("stf"),
        kind="staff",
        name=request.name,
        role=Role(request.role),
        created_at=now,
        updated_at=now,
    )
    return staff, _event("StaffCreated", staff, actor)


def amend_partner(
    partner: PrincipalRecord, patch: PartnerPatch, actor: str
) -> tuple[PrincipalRecord, DomainEvent | None]:
    """The partner with new bindings or name; no event when nothing changes."""
    if partner.kind != "partner":
        raise PrincipalTransitionError(f"{partner.principal_id} is not a partner")
    wanted: dict[str, Any] = {}
    if patch.customer_ids is not None:
        wanted["customer_ids"] = tuple(sorted(patch.customer_ids))
    if patch.name is not None:
        wanted["name"] = patch.name
    changed = sorted(name for name, value in wanted.items() if getattr(partner, name) != value)
    if not changed:
        return partner, None
    amended = partner.model_copy(
        update={
            **{name: wanted[name] for name in changed},
            "version": partner.version + 1,
            "updated_at": clock.now(),
        }
    )
    changes = {
        name: {"before": _wire(getattr(partner, name)), "after": _wire(getattr(amended, name))}
        for name in changed
    }
    return amended, _event("PartnerUpdated", amended, actor, changes=changes)


def issue_key(
    principal: PrincipalRecord, label: str | None, actor: str, *, key_id: str | None = None
) -> tuple[ApiKey, DomainEvent]:
    """A new key for ``principal`` (the caller draws the secret and stores only its hash)."""
    if len(principal.active_keys) >= MAX_ACTIVE_KEYS:
        raise PrincipalTransitionError(
            f"{principal.principal_id} has {MAX_ACTIVE_KEYS} active keys; revoke one first"
        )
    key = ApiKey(
        key_id=key_id or ids.new_id("key"),
        principal_id=principal.principal_id,
        role=principal.role,
        label=label,
        created_at=clock.now(),
    )
    return key, _key_event("ApiKeyIssued", key, actor)


def revoke_key(key: ApiKey, actor: str) -> tuple[ApiKey, DomainEvent]:
    if key.status != "active":
        raise PrincipalTransitionError(f"key {key.key_id} is already revoked")
    revoked = key.model_copy(update={"status": "revoked", "revoked_at": clock.now()})
    return revoked, _key_event("ApiKeyRevoked", revoked, actor)


def _wire(value: Any) -> Any:
    return list(value) if isinstance(value, tuple) else value


def _key_event(detail_type: str, key: ApiKey, actor: str) -> DomainEvent:
    moment = key.revoked_at or key.created_at
    return DomainEvent(
        detail_type=detail_type,
        source=SOURCE,
        aggregate_id=key.principal_id,
        occurred_at=moment,
        data={**key.to_wire(), "actor": actor},
    )


def _event(detail_type: str, principal: PrincipalRecord, actor: str, **extra: Any) -> DomainEvent:
    """Data: the principal's wire form, who acted, and (for updates) each change before/after."""
    return DomainEvent(
        detail_type=detail_type,
        source=SOURCE,
        aggregate_id=principal.principal_id,
        occurred_at=principal.updated_at,
        data={**principal.to_wire(), "actor": actor, **extra},
    )
