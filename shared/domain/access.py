"""Who may do what: the roles of principals, the actions of the API, each role's actions, and
the principal a request acts as.

Pure and light: every route module names the action it requires at import time.
"""

from __future__ import annotations

from enum import StrEnum

from pydantic import ConfigDict

from shared import errors
from shared.model import Model


class Role(StrEnum):
    """What a principal is to the API; ``PERMISSIONS`` maps each role to what it may do."""

    PARTNER = "partner"
    ADMIN = "admin"
    CREDIT_MANAGER = "credit_manager"
    AR_CLERK = "ar_clerk"
    AUDITOR = "auditor"


class CaseOwner(StrEnum):
    """The roles that work on customer cases: what a case's owner (or a customer's) may be."""

    AR_CLERK = Role.AR_CLERK.value
    CREDIT_MANAGER = Role.CREDIT_MANAGER.value
    ADMIN = Role.ADMIN.value


class Action(StrEnum):
    """What an endpoint does; each role may do a fixed set (checked by ``Principal.require``)."""

    READ = "read"  # read orders, invoices, customers, catalog, stock (partners: their customers')
    PLACE_ORDERS = "place_orders"  # place, amend, cancel orders
    SHIP_ORDERS = "ship_orders"  # record shipments (a 3PL partner, or staff)
    MANAGE_CUSTOMERS = "manage_customers"  # create and edit customer accounts
    DECIDE_CREDIT = "decide_credit"  # credit limits, credit hold, approve or reject held orders
    MANAGE_CATALOG = "manage_catalog"  # items, prices, stock levels
    MANAGE_ACCESS = "manage_access"  # partners, staff, API keys, webhooks
    IMPORT_DATA = "import_data"  # data migration
    ISSUE_CREDIT_NOTES = "issue_credit_notes"  # correct issued invoices with credit notes
    RECORD_PAYMENTS = "record_payments"  # manual payments, bank statement uploads
    APPLY_CASH = "apply_cash"  # allocate payments to invoices by hand, take allocations back
    RUN_COLLECTIONS = "run_collections"  # start the dunning run by hand
    MANAGE_COLLECTIONS = "manage_collections"  # the collections worklist, promises to pay
    READ_REPORTS = "read_reports"  # aging, KPIs, the finance dashboard (staff)
    READ_AUDIT = "read_audit"  # the audit trail and its verification
    WRITE_OFF = "write_off"  # write receivables off as bad debt, reverse write-offs
    MANAGE_CASES = "manage_cases"  # read, answer and resolve customer cases


PERMISSIONS: dict[Role, frozenset[Action]] = {
    Role.PARTNER: frozenset({Action.READ, Action.PLACE_ORDERS, Action.SHIP_ORDERS}),
    Role.ADMIN: frozenset(Action),
    Role.CREDIT_MANAGER: frozenset(
        {
            Action.READ,
            Action.DECIDE_CREDIT,
            Action.RUN_COLLECTIONS,
            Action.MANAGE_COLLECTIONS,
            Action.READ_REPORTS,
            Action.WRITE_OFF,
            Action.MANAGE_CASES,
        }
    ),
    Role.AR_CLERK: frozenset(
        {
            Action.READ,
            Action.MANAGE_CUSTOMERS,
            Action.ISSUE_CREDIT_NOTES,
            Action.RECORD_PAYMENTS,
            Action.APPLY_CASH,
            Action.RUN_COLLECTIONS,
            Action.MANAGE_COLLECTIONS,
            Action.READ_REPORTS,
            Action.MANAGE_CASES,
        }
    ),
    Role.AUDITOR: frozenset({Action.READ, Action.READ_REPORTS, Action.READ_AUDIT}),
}


class Principal(Model):
    """Who a request acts as: its role, and (a partner) the customers bound to it."""

    model_config = ConfigDict(frozen=True)

    principal_id: str
    role: Role
    customer_ids: frozenset[str] = frozenset()

    def require(self, action: Action) -> None:
        """Refuse (403) unless this principal's role may perform ``action``."""
        if action not in PERMISSIONS[self.role]:
            doing = action.value.replace("_", " ")
            raise errors.Forbidden(f"the {self.role.value} role may not {doing}")

    def may(self, action: Action) -> bool:
        return action in PERMISSIONS[self.role]

    def may_act_for(self, customer_id: str) -> bool:
        """Partners act only for the customers bound to them; staff for every customer."""
        return self.role is not Role.PARTNER or customer_id in self.customer_ids
