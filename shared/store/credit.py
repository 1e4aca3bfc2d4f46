"""The credit side of a customer account: one item per customer, kept exact by every write.

Key ``(CUSTOMER#<id>, CREDIT)``. The item holds the limit and the three figures that make up the
exposure, and the headroom they leave::

    headroom = credit_limit - (open_receivables + uninvoiced_orders - unapplied_cash)

Every write here moves ``headroom`` by exactly what it moves the other figures, in the same
update expression, so the identity holds after any interleaving of writes; an order can then
reserve exposure with one conditional update (``headroom >= :amount``) and no read. The functions
return ``table.Update`` objects: callers put them into the transaction of the state change (and
its event) that causes them. The item is created with the customer, in the same transaction.

Amounts are Decimal in the customer's currency, never negative: a decrease has its own function.
"""

from __future__ import annotations

from decimal import Decimal

from pydantic import ConfigDict

from shared import clock
from shared.domain.money import quantize
from shared.model import Model
from shared.store import readable, table
from shared.store.table import Item, Update

SORT_KEY = "CREDIT"
_EXISTS = "attribute_exists(pk)"


def credit_key(customer_id: str) -> tuple[str, str]:
    return f"CUSTOMER#{customer_id}", SORT_KEY


class CreditExposure(Model):
    """A customer's credit figures as last written (all in ``currency``)."""

    model_config = ConfigDict(frozen=True)

    customer_id: str
    currency: str
    credit_limit: Decimal
    open_receivables: Decimal  # issued invoices not yet paid
    uninvoiced_orders: Decimal  # confirmed orders not yet invoiced
    unapplied_cash: Decimal  # money received and not yet matched to an invoice
    headroom: Decimal  # what further exposure the limit allows (negative: over the limit)

    @property
    def exposure(self) -> Decimal:
        return self.open_receivables + self.uninvoiced_orders - self.unapplied_cash

    def to_wire(self) -> dict[str, str]:
        def amount(value: Decimal) -> str:
            return str(quantize(value, self.currency))

        return {
            "currency": self.currency,
            "credit_limit": amount(self.credit_limit),
            "open_receivables": amount(self.open_receivables),
            "uninvoiced_orders": amount(self.uninvoiced_orders),
            "unapplied_cash": amount(self.unapplied_cash),
            "exposure": amount(self.exposure),
            "headroom": amount(self.headroom),
        }


def credit_item(
    customer_id: str,
    currency: str,
    credit_limit: Decimal,
    *,
    open_receivables: Decimal = Decimal(0),
    uninvoiced_orders: Decimal = Decimal(0),
    unapplied_cash: Decimal = Decimal(0),
) -> Item:
    """The item a new customer starts with (put it with ``Put.new`` next to the customer)."""
    for name, value in (
        ("credit_limit", credit_limit),
        ("open_receivables", open_receivables),
        ("uninvoiced_orders", uninvoiced_orders),
        ("unapplied_cash", unapplied_cash),
    ):
        _not_negative(name, value)
    pk, sk = credit_key(customer_id)
    return {
        "pk": pk,
        "sk": sk,
        "entity": "CustomerCredit",
        "customer_id": customer_id,
        "currency": currency,
        "credit_limit": credit_limit,
        "open_receivables": open_receivables,
        "uninvoiced_orders": uninvoiced_orders,
        "unapplied_cash": unapplied_cash,
        "headroom": credit_limit - (open_receivables + uninvoiced_orders - unapplied_cash),
        "updated_at": clock.iso(clock.now()),
    }


def add_uninvoiced(customer_id: str, amount: Decimal, *, enforce_limit: bool) -> Update:
    """A confirmed order adds its total to the exposure.

    With ``enforce_limit`` the write fails (ConditionalCheckFailed) unless the headroom covers
    ``amount``; without it (a credit manager approved), the headroom may go negative.
    """
    _not_negative("amount", amount)
    return _move(
        customer_id,
        "uninvoiced_orders = uninvoiced_orders + :amount, headroom = headroom - :amount",
        amount,
        condition=f"{_EXISTS} AND headroom >= :amount" if enforce_limit else _EXISTS,
    )


def release_uninvoiced(customer_id: str, amount: Decimal) -> Update:
    """A cancelled or shrunk order gives exposure back (never more than is held)."""
    _not_negative("amount", amount)
    return _move(
        customer_id,
        "uninvoiced_orders = uninvoiced_orders - :amount, headroom = headroom + :amount",
        amount,
        condition=f"{_EXISTS} AND uninvoiced_orders >= :amount",
    )


def add_open_receivables(customer_id: str, amount: Decimal) -> Update:
    """Receivables that arrive from outside the order flow (data migration): no limit check."""
    _not_negative("amount", amount)
    return _move(
        customer_id,
        "open_receivables = open_receivables + :amount, headroom = headroom - :amount",
        amount,
        condition=_EXISTS,
    )


def invoice_issued(customer_id: str, released: Decimal, billed: Decimal) -> Update:
    """An invoice turns order exposure into a receivable: ``released`` (the net amount of the
    order it bills) leaves the uninvoiced orders, ``billed`` (the invoice total, tax included)
    joins the open receivables. One update, as a transaction may touch the item only once."""
    _not_negative("released", released)
    _not_negative("billed", billed)
    return Update(
        key=credit_key(customer_id),
        expression=(
            "SET uninvoiced_orders = uninvoiced_orders - :released, "
            "open_receivables = open_receivables + :billed, "
            "headroom = headroom + :released - :billed, updated_at = :now"
        ),
        condition=f"{_EXISTS} AND uninvoiced_orders >= :released",
        values={":released": released, ":billed": billed, ":now": clock.iso(clock.now())},
    )


def settle_receivables(customer_id: str, amount: Decimal) -> Update:
    """Receivables that are no longer owed (credited, or paid): never below zero."""
    _not_negative("amount", amount)
    return _move(
        customer_id,
        "open_receivables = open_receivables - :amount, headroom = headroom + :amount",
        amount,
        condition=f"{_EXISTS} AND open_receivables >= :amount",
    )


def add_unapplied_cash(customer_id: str, amount: Decimal) -> Update:
    """Money received for the customer and not applied yet lowers its exposure."""
    _not_negative("amount", amount)
    return _move(
        customer_id,
        "unapplied_cash = unapplied_cash + :amount, headroom = headroom + :amount",
        amount,
        condition=_EXISTS,
    )


def release_unapplied_cash(customer_id: str, amount: Decimal) -> Update:
    """Unapplied money that leaves (refunded): never more than is held."""
    _not_negative("amount", amount)
    return _move(
        customer_id,
        "unapplied_cash = unapplied_cash - :amount, headroom = headroom - :amount",
        amount,
        condition=f"{_EXISTS} AND unapplied_cash >= :amount",
    )


def cash_moved(
    customer_id: str,
    *,
    settled: Decimal = Decimal(0),
    reopened: Decimal = Decimal(0),
    received: Decimal = Decimal(0),
    released: Decimal = Decimal(0),
) -> Update:
    """Cash application in one update (a transaction may touch the item only once).

    ``settled`` (cash plus discount applied) leaves the open receivables and ``reopened`` (an
    allocation taken back) rejoins them; ``received`` (money of a payer identified only now, or
    cash an allocation gave back) joins the unapplied cash and ``released`` (cash applied, or
    refunded) leaves it. Neither figure may end below zero.
    """
    for name, value in (
        ("settled", settled),
        ("reopened", reopened),
        ("received", received),
        ("released", released),
    ):
        _not_negative(name, value)
    return Update(
        key=credit_key(customer_id),
        expression=(
            "SET open_receivables = open_receivables - :settled + :reopened, "
            "unapplied_cash = unapplied_cash + :received - :released, "
            "headroom = headroom + :settled - :reopened + :received - :released, "
            "updated_at = :now"
        ),
        condition=(
            f"{_EXISTS} AND open_receivables >= :receivables_floor "
            "AND unapplied_cash >= :cash_floor"
        ),
        values={
            ":settled": settled,
            ":reopened": reopened,
            ":received": received,
            ":released": released,
            ":receivables_floor": max(Decimal(0), settled - reopened),
            ":cash_floor": max(Decimal(0), released - received),
            ":now": clock.iso(clock.now()),
        },
    )


def change_limit(customer_id: str, previous: Decimal, new: Decimal) -> Update:
    """Set a new limit; the headroom moves by the difference. Fails unless ``previous`` is the
    stored limit, so a change computed from a stale read can never skew the headroom."""
    _not_negative("credit_limit", new)
    return Update(
        key=credit_key(customer_id),
        expression=("SET credit_limit = :new, headroom = headroom + :delta, updated_at = :now"),
        condition=f"{_EXISTS} AND credit_limit = :previous",
        values={
            ":new": new,
            ":delta": new - previous,
            ":previous": previous,
            ":now": clock.iso(clock.now()),
        },
    )


def get_exposure(customer_id: str) -> CreditExposure | None:
    item = table.get(*credit_key(customer_id))
    return from_item(item) if item else None


@readable.reader
def from_item(item: Item) -> CreditExposure:
    return CreditExposure(
        customer_id=item["customer_id"],
        currency=item["currency"],
        credit_limit=Decimal(item["credit_limit"]),
        open_receivables=Decimal(item["open_receivables"]),
        uninvoiced_orders=Decimal(item["uninvoiced_orders"]),
        unapplied_cash=Decimal(item["unapplied_cash"]),
        headroom=Decimal(item["headroom"]),
    )


def _move(customer_id: str, assignments: str, amount: Decimal, *, condition: str) -> Update:
    return Update(
        key=credit_key(customer_id),
        expression=f"SET {assignments}, updated_at = :now",
        condition=condition,
        values={":amount": amount, ":now": clock.iso(clock.now())},
    )


def _not_negative(name: str, value: Decimal) -> None:
    if value < 0:
        raise ValueError(f"{name} may not be negative, got {value}")
