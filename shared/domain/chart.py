"""The chart of accounts: the codes and names the accountants' books give the ledger's accounts.

The ledger (shared/domain/ledger.py) posts to a few accounts (``Account``); an accounting system
imports the journal by account code. ``ChartOfAccounts`` maps each ledger account to a code and a
name, and where one ledger account stands for several in the books, each of its dimensions (the
``Posting.dimension``) to a sub-account:

- revenue and VAT payable per tax group (``S:19``, ``S:7``, ``Z:0``, ``AE:0``, ``K:0``, ...);
- cash per bank account (``bank:<IBAN>``), gateway (``gateway:stripe``) and clerk-recorded money
  (``manual:cheque``).

A dimension the chart does not name gets a sub-account derived from its account (code
``<code>-<dimension>``, name ``<name> <dimension>``), so a new bank account or tax rate is never
lumped together with another, and a ledger account the chart does not know (one added to the
ledger later) is booked to ``unmapped``, a suspense account, so it never breaks an export.

The default chart is below; a deployment overrides any part of it with a JSON document (the
``ChartOfAccounts`` stack parameter, ``CHART_OF_ACCOUNTS`` in the environment), e.g.::

    {"accounts": {"receivables": {"code": "1400", "name": "Forderungen aus L+L"}},
     "sub_accounts": {"revenue": {"S:19": {"code": "8400", "name": "Erloese 19 % USt"}}}}

An override replaces the entries it names and keeps the others.
"""

from __future__ import annotations

import json
import re
from typing import Annotated, Any

from pydantic import ConfigDict, Field, StringConstraints

from shared.domain.text import SingleLine, scrub
from shared.model import Model

Code = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9._:/-]{0,63}$")]
_UNSAFE_IN_CODE = re.compile(r"[^A-Za-z0-9._:/-]")


class AccountLine(Model):
    """One account of the books: its code and its name."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    code: Code
    name: Annotated[str, SingleLine(max_length=120), Field(min_length=1)]


class ChartOfAccounts(Model):
    """Ledger account -> account of the books; (ledger account, dimension) -> sub-account."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    accounts: dict[str, AccountLine]
    sub_accounts: dict[str, dict[str, AccountLine]] = {}
    unmapped: AccountLine

    def line_for(self, account: str, dimension: str | None = None) -> AccountLine:
        """The account of the books a posting to ``account`` (``dimension``) goes to."""
        parent = self.accounts.get(account)
        if parent is None:
            return self.unmapped
        if not dimension:
            return parent
        named = self.sub_accounts.get(account, {}).get(dimension)
        if named is not None:
            return named
        readable = " ".join(scrub(dimension, " ").split())  # stored text: never refused here
        return AccountLine(
            code=f"{parent.code}-{_UNSAFE_IN_CODE.sub('_', dimension)}"[:64],
            name=f"{parent.name} {readable}".strip()[:120],
        )

    def overridden(self, override: dict[str, Any]) -> ChartOfAccounts:
        """This chart with the entries ``override`` names replaced (a ValueError if invalid)."""
        patch = ChartPatch.model_validate(override)
        sub_accounts = {key: dict(lines) for key, lines in self.sub_accounts.items()}
        for account, lines in patch.sub_accounts.items():
            sub_accounts.setdefault(account, {}).update(lines)
        return ChartOfAccounts(
            accounts={**self.accounts, **patch.accounts},
            sub_accounts=sub_accounts,
            unmapped=patch.unmapped or self.unmapped,
        )


class ChartPatch(Model):
    """The configuration document: any part of the chart, merged over the default."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    accounts: dict[str, AccountLine] = {}
    sub_accounts: dict[str, dict[str, AccountLine]] = {}
    unmapped: AccountLine | None = None


def _line(code: str, name: str) -> AccountLine:
    return AccountLine(code=code, name=name)


DEFAULT = ChartOfAccounts(
    accounts={
        "cash": _line("1000", "Cash and bank clearing"),
        "receivables": _line("1200", "Trade receivables"),
        "unapplied_cash": _line("2100", "Customer credits and unapplied cash"),
        "tax_payable": _line("2200", "VAT payable"),
        "opening_balance_equity": _line("3000", "Opening balance equity"),
        "revenue": _line("4000", "Revenue"),
        "fee_income": _line("4810", "Dunning fee income"),
        "interest_income": _line("4820", "Late-payment interest income"),
        "discounts_allowed": _line("4900", "Cash discounts allowed"),
        "small_differences": _line("4950", "Small payment differences"),
        "bad_debt_expense": _line("6900", "Bad debt write-offs"),
    },
    sub_accounts={
        "cash": {"gateway:stripe": _line("1010", "Stripe clearing")},
        "revenue": {
            "S:19": _line("4019", "Revenue 19 % VAT"),
            "S:7": _line("4007", "Revenue 7 % VAT"),
            "Z:0": _line("4100", "Revenue zero-rated"),
            "E:0": _line("4110", "Revenue VAT-exempt"),
            "AE:0": _line("4120", "Revenue reverse charge (EU)"),
            "K:0": _line("4125", "Revenue intra-community supplies (EU)"),
            "G:0": _line("4130", "Revenue export"),
        },
        "tax_payable": {
            "S:19": _line("2219", "VAT payable 19 %"),
            "S:7": _line("2207", "VAT payable 7 %"),
        },
    },
    unmapped=_line("9999", "Suspense: ledger account not in the chart"),
)


def load(document: str) -> ChartOfAccounts:
    """The default chart with ``document`` (JSON, possibly empty) laid over it."""
    if not document.strip():
        return DEFAULT
    override = json.loads(document)
    if not isinstance(override, dict):
        raise ValueError("the chart of accounts is a JSON object")
    return DEFAULT.overridden(override)
