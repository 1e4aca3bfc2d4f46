"""Change an account at the version the caller read (409 otherwise).

Who may change what: credit_limit and status are credit decisions (Action.DECIDE_CREDIT), every
other field is account upkeep (Action.MANAGE_CUSTOMERS); a PATCH needs the actions of the fields
it actually changes (and at least one of the two). A closed account is read-only; only an admin
may reopen it (status active or credit_hold), possibly with other changes in the same PATCH.
A PATCH that changes nothing answers the account as it is, writes nothing and emits no event.
"""

from __future__ import annotations

from shared import errors
from shared.domain import customer as customer_domain
from shared.domain.access import Action, Principal, Role
from shared.domain.customer import (
    CREDIT_FIELDS,
    Customer,
    CustomerClosedError,
    CustomerPatch,
    CustomerStatus,
    InvalidFieldError,
)
from shared.store import customers
from shared.store.outbox import StaleStateError


def update_customer(customer_id: str, patch: CustomerPatch, principal: Principal) -> Customer:
    customer = customers.get(customer_id, consistent=True) if len(customer_id) <= 64 else None
    if customer is None or not principal.may_act_for(customer_id):
        raise errors.NotFound(f"customer {customer_id}")
    if patch.version != customer.version:
        raise _stale(customer_id, customer.version)
    try:
        amendment = customer_domain.amend(customer, patch, principal.principal_id)
    except InvalidFieldError as error:
        raise field_problem(error) from None
    except CustomerClosedError as error:
        raise errors.Conflict("customer-closed", str(error)) from None
    if amendment.changed & CREDIT_FIELDS:
        principal.require(Action.DECIDE_CREDIT)
    if amendment.changed - CREDIT_FIELDS:
        principal.require(Action.MANAGE_CUSTOMERS)
    if amendment.event is None:
        return customer
    if customer.status is CustomerStatus.CLOSED and principal.role is not Role.ADMIN:
        raise errors.Forbidden("only an admin may reopen a closed customer")
    try:
        customers.update(customer, amendment.customer, amendment.event)
    except StaleStateError:
        now = customers.get(customer_id, consistent=True)
        raise _stale(customer_id, now.version if now else None) from None
    return amendment.customer


def field_problem(error: InvalidFieldError) -> errors.DomainError:
    """422 naming the field whose value the account's rules refuse."""
    return errors.Unprocessable(
        "validation-error",
        error.detail,
        errors=[{"pointer": f"#/{error.field}", "detail": error.detail}],
    )


def _stale(customer_id: str, current: int | None) -> errors.DomainError:
    now = f" is at version {current}" if current is not None else " changed meanwhile"
    return errors.Conflict(
        "version-mismatch",
        f"customer {customer_id}{now}; read it again and retry",
        current_version=current,
    )
