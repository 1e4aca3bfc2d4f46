"""A customer's payment and purchase behaviour over a window, scored (pure).

From the exact parts shared/lake/sql/behaviour.sql counts per customer and currency over the
window ``start``..``as_of`` (``Parts``), ``assess`` derives the figures, an RFM segment, a payment
risk score with the points each factor added, and a suggested credit limit. Every division
happens here, in Decimal; figures are rounded half-up to 2 decimals only on the wire.

Figures (an average over no invoice is None):

- average days to pay: paid day - issue day, over the invoices paid in the window (paid: the day
  cash or credit, or a small difference written off, brought the invoice's open item to 0);
- average days beyond terms: paid day - due day, at least 0, over the same invoices; and both
  for the window's first and second half (the trend);
- late share: invoices paid after their due day / invoices paid;
- overdue share of exposure: amount past due / amount open at the end of ``as_of``;
- RFM: recency (days from the last order confirmed to ``as_of``), frequency (orders confirmed
  in the window), monetary (invoiced net of credit notes issued in the window).

Segment (the first rule that holds): ``no_orders`` (never confirmed an order), ``lapsed``
(recency over 180 days), ``at_risk`` (over 90), ``new`` (first order within the last 90 days),
``champion`` (recency at most 30 and at least 2 orders a month over the window), ``loyal`` (at
least 1 order a month), else ``occasional``. Orders a month = frequency x 30 / window days.

Risk score (0-100, the sum of ``FACTORS``' points, each rounded half-up to 0.01):
days beyond terms (1 a day, at most 30), late share (x 20), overdue share of exposure (x 20),
trend (the second half's average days beyond terms less the first's, when both halves paid an
invoice: 1 a day, 0 to 10), broken promises (5 each, at most 10), disputes opened (5 each, at
most 10). Band: ``low`` under 25, ``medium`` under 50, ``high`` under 75, else ``very_high``.

Suggested credit limit: what the customer typically owes, average monthly invoiced (monetary x
30 / window days, at least 0) x (average terms + average days beyond terms) / 30, times the
band's share (low 1, medium 0.75, high 0.5, very high 0), rounded down to the currency's major
unit. Average terms: due day - issue day over the invoices issued in the window.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_DOWN, ROUND_HALF_UP, Decimal
from typing import Any

from pydantic import ConfigDict

from shared.domain.money import quantize
from shared.model import Model

ZERO = Decimal(0)
CENT = Decimal("0.01")
MONTH_DAYS = Decimal(30)
LAPSED_AFTER = 180
AT_RISK_AFTER = 90
NEW_WITHIN = 90
CHAMPION_RECENCY = 30
CHAMPION_MONTHLY = Decimal(2)
LOYAL_MONTHLY = Decimal(1)
BANDS = ((Decimal(25), "low"), (Decimal(50), "medium"), (Decimal(75), "high"))
TOP_BAND = "very_high"
LIMIT_SHARE = {
    "low": Decimal(1),
    "medium": Decimal("0.75"),
    "high": Decimal("0.5"),
    "very_high": ZERO,
}


class Parts(Model):
    """One row of sql/behaviour.sql (DuckDB's values, or Athena's text: both read alike)."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    customer_id: str
    customer_name: str | None = None
    currency: str
    invoices_paid: int = 0
    days_to_pay: int = 0
    days_beyond: int = 0
    paid_late: int = 0
    first_paid: int = 0
    first_days_to_pay: int = 0
    first_days_beyond: int = 0
    second_paid: int = 0
    second_days_to_pay: int = 0
    second_days_beyond: int = 0
    items_open: int = 0
    open_amount: Decimal = ZERO
    items_overdue: int = 0
    overdue_amount: Decimal = ZERO
    disputes_opened: int = 0
    promises_made: int = 0
    promises_kept: int = 0
    promises_broken: int = 0
    first_order_on: date | None = None
    last_order_on: date | None = None
    orders_confirmed: int = 0
    invoiced: Decimal = ZERO
    invoices_issued: int = 0
    terms_days: int = 0


@dataclass(frozen=True)
class Factor:
    """One risk factor: the figure it read and the points it added."""

    name: str
    value: Decimal | None
    points: Decimal
    rule: str

    def to_wire(self) -> dict[str, Any]:
        return {
            "factor": self.name,
            "value": _text(self.value),
            "points": str(self.points),
            "rule": self.rule,
        }


@dataclass(frozen=True)
class Half:
    invoices_paid: int
    average_days_to_pay: Decimal | None
    average_days_beyond_terms: Decimal | None

    def to_wire(self) -> dict[str, Any]:
        return {
            "invoices_paid": self.invoices_paid,
            "average_days_to_pay": _text(self.average_days_to_pay),
            "average_days_beyond_terms": _text(self.average_days_beyond_terms),
        }


@dataclass(frozen=True)
class Behaviour:
    customer_id: str
    customer_name: str | None
    currency: str
    invoices_paid: int
    average_days_to_pay: Decimal | None
    average_days_beyond_terms: Decimal | None
    first_half: Half
    second_half: Half
    late_share: Decimal | None
    items_open: int
    open_amount: Decimal
    items_overdue: int
    overdue_amount: Decimal
    overdue_share: Decimal | None
    disputes_opened: int
    promises_made: int
    promises_kept: int
    promises_broken: int
    recency_days: int | None
    frequency: int
    monetary: Decimal
    average_terms_days: Decimal | None
    segment: str
    risk_score: Decimal
    risk_band: str
    risk_factors: tuple[Factor, ...]
    credit_limit: Decimal

    def to_wire(self) -> dict[str, Any]:
        """Amounts in the currency's minor unit (the limit in its major unit), averages and
        shares to 2 decimals (strings), counts as numbers, an undefined figure as null."""
        return {
            "customer_id": self.customer_id,
            "customer_name": self.customer_name,
            "currency": self.currency,
            "payment": {
                "invoices_paid": self.invoices_paid,
                "average_days_to_pay": _text(self.average_days_to_pay),
                "average_days_beyond_terms": _text(self.average_days_beyond_terms),
                "late_share": _text(self.late_share),
                "first_half": self.first_half.to_wire(),
                "second_half": self.second_half.to_wire(),
            },
            "exposure": {
                "items_open": self.items_open,
                "open_amount": str(quantize(self.open_amount, self.currency)),
                "items_overdue": self.items_overdue,
                "overdue_amount": str(quantize(self.overdue_amount, self.currency)),
                "overdue_share": _text(self.overdue_share),
            },
            "disputes_opened": self.disputes_opened,
            "promises": {
                "made": self.promises_made,
                "kept": self.promises_kept,
                "broken": self.promises_broken,
            },
            "rfm": {
                "recency_days": self.recency_days,
                "frequency": self.frequency,
                "monetary": str(quantize(self.monetary, self.currency)),
                "segment": self.segment,
            },
            "risk": {
                "score": str(self.risk_score),
                "band": self.risk_band,
                "factors": [factor.to_wire() for factor in self.risk_factors],
            },
            "credit_limit": {
                "amount": str(self.credit_limit),
                "average_terms_days": _text(self.average_terms_days),
            },
        }


def assess(row: Mapping[str, Any] | Parts, start: date, as_of: date) -> Behaviour:
    """The behaviour of one customer (in one currency) over ``start``..``as_of``."""
    parts = row if isinstance(row, Parts) else Parts.model_validate(dict(row))
    window_days = Decimal((as_of - start).days + 1)
    first = _half(parts.first_paid, parts.first_days_to_pay, parts.first_days_beyond)
    second = _half(parts.second_paid, parts.second_days_to_pay, parts.second_days_beyond)
    beyond = _ratio(parts.days_beyond, parts.invoices_paid)
    late_share = _ratio(parts.paid_late, parts.invoices_paid)
    overdue_share = _ratio(parts.overdue_amount, parts.open_amount)
    recency = None if parts.last_order_on is None else (as_of - parts.last_order_on).days
    factors = risk_factors(
        beyond=beyond,
        late_share=late_share,
        overdue_share=overdue_share,
        first=first,
        second=second,
        broken=parts.promises_broken,
        disputes=parts.disputes_opened,
    )
    score = sum((factor.points for factor in factors), ZERO)
    band = risk_band(score)
    terms = _ratio(parts.terms_days, parts.invoices_issued)
    return Behaviour(
        customer_id=parts.customer_id,
        customer_name=parts.customer_name,
        currency=parts.currency,
        invoices_paid=parts.invoices_paid,
        average_days_to_pay=_ratio(parts.days_to_pay, parts.invoices_paid),
        average_days_beyond_terms=beyond,
        first_half=first,
        second_half=second,
        late_share=late_share,
        items_open=parts.items_open,
        open_amount=parts.open_amount,
        items_overdue=parts.items_overdue,
        overdue_amount=parts.overdue_amount,
        overdue_share=overdue_share,
        disputes_opened=parts.disputes_opened,
        promises_made=parts.promises_made,
        promises_kept=parts.promises_kept,
        promises_broken=parts.promises_broken,
        recency_days=recency,
        frequency=parts.orders_confirmed,
        monetary=parts.invoiced,
        average_terms_days=terms,
        segment=segment(recency, parts.first_order_on, parts.orders_confirmed, window_days, as_of),
        risk_score=score,
        risk_band=band,
        risk_factors=factors,
        credit_limit=credit_limit(parts.invoiced, window_days, terms, beyond, band),
    )


def segment(
    recency: int | None,
    first_order_on: date | None,
    frequency: int,
    window_days: Decimal,
    as_of: date,
) -> str:
    """The RFM segment (rules in the module notes)."""
    if recency is None or first_order_on is None:
        return "no_orders"
    monthly = Decimal(frequency) * MONTH_DAYS / window_days
    rules = (
        (recency > LAPSED_AFTER, "lapsed"),
        (recency > AT_RISK_AFTER, "at_risk"),
        ((as_of - first_order_on).days <= NEW_WITHIN, "new"),
        (recency <= CHAMPION_RECENCY and monthly >= CHAMPION_MONTHLY, "champion"),
        (monthly >= LOYAL_MONTHLY, "loyal"),
    )
    return next((name for holds, name in rules if holds), "occasional")


def risk_factors(
    *,
    beyond: Decimal | None,
    late_share: Decimal | None,
    overdue_share: Decimal | None,
    first: Half,
    second: Half,
    broken: int,
    disputes: int,
) -> tuple[Factor, ...]:
    """Every factor of the risk score with the points it added (rules in the module notes)."""
    trend = (
        None
        if first.average_days_beyond_terms is None or second.average_days_beyond_terms is None
        else second.average_days_beyond_terms - first.average_days_beyond_terms
    )
    return (
        Factor("days_beyond_terms", beyond, _points(beyond, 1, 30), "1 point a day, at most 30"),
        Factor("late_share", late_share, _points(late_share, 20, 20), "share x 20"),
        Factor(
            "overdue_share_of_exposure",
            overdue_share,
            _points(overdue_share, 20, 20),
            "share x 20",
        ),
        Factor(
            "trend_worsening",
            trend,
            _points(trend, 1, 10),
            "second half's average days beyond terms less the first's: 1 point a day, 0 to 10",
        ),
        Factor(
            "broken_promises",
            Decimal(broken),
            _points(Decimal(broken), 5, 10),
            "5 points each, at most 10",
        ),
        Factor(
            "disputes_opened",
            Decimal(disputes),
            _points(Decimal(disputes), 5, 10),
            "5 points each, at most 10",
        ),
    )


def risk_band(score: Decimal) -> str:
    return next((band for below, band in BANDS if score < below), TOP_BAND)


def credit_limit(
    invoiced: Decimal,
    window_days: Decimal,
    terms: Decimal | None,
    beyond: Decimal | None,
    band: str,
) -> Decimal:
    """Average monthly invoiced x (terms + days beyond terms) / 30 x the band's share, rounded
    down to the major unit."""
    monthly = max(invoiced, ZERO) * MONTH_DAYS / window_days
    days = (terms or ZERO) + (beyond or ZERO)
    limit = monthly * days / MONTH_DAYS * LIMIT_SHARE[band]
    return limit.quantize(Decimal(1), rounding=ROUND_DOWN)


def _half(paid: int, to_pay: int, beyond: int) -> Half:
    return Half(paid, _ratio(to_pay, paid), _ratio(beyond, paid))


def _ratio(part: int | Decimal, whole: int | Decimal) -> Decimal | None:
    return None if not whole else Decimal(part) / Decimal(whole)


def _points(value: Decimal | None, per: int, cap: int) -> Decimal:
    if value is None:
        return ZERO
    raw = min(max(value * per, ZERO), Decimal(cap))
    return raw.quantize(CENT, rounding=ROUND_HALF_UP)


def _text(value: Decimal | None) -> str | None:
    return None if value is None else str(value.quantize(CENT, rounding=ROUND_HALF_UP))


@dataclass(frozen=True)
class BehaviourReport:
    """Every customer's behaviour (per currency) over ``start``..``as_of``."""

    start: date
    as_of: date
    customers: tuple[Behaviour, ...]

    def to_wire(self) -> dict[str, Any]:
        return {
            "from": self.start.isoformat(),
            "as_of": self.as_of.isoformat(),
            "days": (self.as_of - self.start).days + 1,
            "customers": [customer.to_wire() for customer in self.customers],
        }


def report(rows: Iterable[Mapping[str, Any]], start: date, as_of: date) -> BehaviourReport:
    """The report from sql/behaviour.sql's rows."""
    return BehaviourReport(start, as_of, tuple(assess(row, start, as_of) for row in rows))
