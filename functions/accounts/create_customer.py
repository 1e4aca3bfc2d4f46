"""Open a customer account (staff). A credit limit above zero is a credit decision as well."""

from __future__ import annotations

from decimal import Decimal

from functions.accounts.update_customer import field_problem
from shared import request_scope
from shared.domain import customer as customer_domain
from shared.domain.access import Action, Principal
from shared.domain.customer import Customer, CustomerRequest, InvalidFieldError
from shared.store import customers
from shared.store.outbox import StaleStateError


def create_customer(request: CustomerRequest, principal: Principal) -> Customer:
    if Decimal(request.credit_limit) > 0:
        principal.require(Action.DECIDE_CREDIT)
    try:
        customer, event = customer_domain.open_account(
            request, principal.principal_id, customer_id=request_scope.request_scoped_id("cus")
        )
    except InvalidFieldError as error:
        raise field_problem(error) from None
    try:
        customers.create(customer, [event])
    except StaleStateError:
        # A retry whose first attempt opened the account, then died before its answer was saved
        if opened := request_scope.made_before(
            "cus", lambda made: customers.get(made, consistent=True)
        ):
            return opened
        raise
    return customer
