"""The identities between every view of a customer's money: one set of books, seen many ways.

Every figure about a customer's money derives from its ledger (shared.domain.ledger): the
statement, the aging report (live and snapshot), the credit figures, each invoice's amount due,
the journal and its trial balance. These identities must hold between them, on any day, after any
sequence of operations; a difference is a defect, never a rounding:

1. statement: closing balance = its aging's total less the money held for the customer
   (``aging.balance``), and its aging's total = the sum of its buckets = the sum of its items;
2. statement aging = the customer's row in the aging report of the same day, bucket by bucket,
   total, unapplied and balance (a customer absent from the report has nothing open or held);
3. credit figures: open receivables less unapplied cash = the statement's closing balance (the
   exposure is that plus the confirmed orders not yet invoiced), and their unapplied cash = the
   money the statement's aging holds for the customer (collections read the credit a customer
   holds from the figures);
4. every invoice's amount due = what the statement's aging has open on it (0 when it has none),
   and so every fee or interest charge's amount due (its open item is named by the charge's id);
5. the books: the receivables control account of the trial balance = the aging report's total of
   open items; the unapplied cash account = the report's unapplied; debits = credits.

The checks read the API's wire forms (decimal strings with their currency), so a test, a
benchmark or an operator can run them against any deployment; each answers the differences it
found as sentences naming the view, the figure and both amounts (an empty list: the books agree).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

ZERO = Decimal(0)
Wire = Mapping[str, Any]


@dataclass(frozen=True)
class CustomerViews:
    """One customer's views of the same day, as the API answered them."""

    customer_id: str
    statement: Wire  # GET /customers/{id}/statement (to = the day)
    aging_row: Wire | None  # the customer's row of GET /reports/aging (as_of = the day)
    credit: Wire | None = None  # the ``credit`` of GET /customers/{id} (staff); None: not read
    invoices: Sequence[Wire] = field(default_factory=tuple)  # GET /invoices?customer_id=
    charges: Sequence[Wire] = field(default_factory=tuple)  # GET /customers/{id}/charges?status=all


def amount(money: Any) -> Decimal:
    """A wire amount (``{"amount": "1.00", ...}`` or ``"1.00"``) as a Decimal."""
    if isinstance(money, Mapping):
        money = money["amount"]
    return Decimal(str(money))


def customer_differences(views: CustomerViews) -> list[str]:
    """Where the customer's views disagree (identities 1 to 4 of the module notes)."""
    found: list[str] = []
    who = views.customer_id

    def differ(what: str, expected: Decimal, actual: Decimal) -> None:
        if expected != actual:
            found.append(f"{who}: {what} is {actual}, expected {expected}")

    statement = views.statement
    aging = statement["aging"]
    closing = amount(statement["closing_balance"])
    total, unapplied = amount(aging["total"]), amount(aging["unapplied"])
    buckets = {name: amount(money) for name, money in aging["buckets"].items()}
    items = aging["open_invoices"]
    differ("statement aging balance", closing, amount(aging["balance"]))
    differ("statement aging total less unapplied", closing, total - unapplied)
    differ("sum of statement aging buckets", total, sum(buckets.values(), ZERO))
    differ(
        "sum of statement open items", total, sum((amount(i["amount_due"]) for i in items), ZERO)
    )

    row = views.aging_row or {}
    row_buckets = {name: amount(money) for name, money in row.get("buckets", {}).items()}
    for name in sorted({*buckets, *row_buckets}):
        differ(f"aging report bucket {name}", buckets.get(name, ZERO), row_buckets.get(name, ZERO))
    differ("aging report total", total, amount(row.get("total", "0")))
    differ("aging report unapplied", unapplied, amount(row.get("unapplied", "0")))
    differ("aging report balance", closing, amount(row.get("balance", "0")))

    if views.credit is not None:
        owed = amount(views.credit["open_receivables"]) - amount(views.credit["unapplied_cash"])
        differ("credit figures' open receivables less unapplied cash", closing, owed)
        differ("credit figures' unapplied cash", unapplied, amount(views.credit["unapplied_cash"]))

    open_on = {item["invoice_id"]: amount(item["amount_due"]) for item in items}
    for invoice in views.invoices:
        if invoice.get("kind", "invoice") != "invoice":
            continue
        invoice_id = invoice["id"]
        differ(
            f"amount due of invoice {invoice.get('number', invoice_id)}",
            open_on.get(invoice_id, ZERO),
            amount(invoice["amount_due"]),
        )
    for charge in views.charges:
        differ(
            f"amount due of {charge.get('kind', 'charge')} {charge['id']}",
            open_on.get(charge["id"], ZERO),
            amount(charge["amount_due"]),
        )
    return found


def books_differences(aging_report: Wire, trial_balance: Wire) -> list[str]:
    """Where the aging report and the trial balance of the same day disagree (identity 5 of the
    module notes): GET /reports/aging and GET /ledger/trial-balance."""
    found: list[str] = []
    groups = {group["currency"]: group for group in trial_balance.get("currencies", [])}
    for aged in aging_report.get("currencies", []):
        currency, totals = aged["currency"], aged["totals"]
        balances = control_balances(groups.get(currency, {}))
        for account, expected in (
            ("receivables", amount(totals["total"])),
            ("unapplied_cash", -amount(totals["unapplied"])),
        ):
            actual = balances.get(account, ZERO)
            if actual != expected:
                found.append(f"{currency}: trial balance {account} is {actual}, aging {expected}")
    for currency, group in sorted(groups.items()):
        debits, credits = amount(group["totals"]["debits"]), amount(group["totals"]["credits"])
        if debits != credits:
            found.append(f"{currency}: trial balance debits {debits} != credits {credits}")
    return found


def control_balances(currency_group: Wire) -> dict[str, Decimal]:
    """Ledger account -> debit-positive balance, over the codes of one currency's trial balance."""
    balances: dict[str, Decimal] = {}
    for line in currency_group.get("accounts", []):
        account = line["account"]
        balances[account] = balances.get(account, ZERO) + amount(line["balance"])
    return balances
