"""The finance dashboard (GET /dashboard): one HTML page, charts drawn server-side as inline SVG.

What it shows, as of the end of a day (UTC; default today):

- worklist counts: payments waiting for cash application (unapplied or partially applied,
  counted up to ``COUNT_CAP``) and customers on the collections worklist (with an invoice past
  due). Both are worklists of now: for a past ``as_of`` they count today's open items, as the
  worklists themselves do (the aging and the DSO trend are the books of that day);
- unapplied cash per currency (the aging's ``unapplied``: received, not yet applied);
- the AR aging per currency: a bar per bucket, and the same figures in a table;
- the DSO trend (standard DSO per calendar month, the last six), a line per currency and a table,
  and the collection figures of the last 30 days per currency (CEI, standard and countback DSO,
  average days to pay, fulfilment rate), both from the lake (functions/reporting/
  dashboard_kpis.py; the trend from the books where there is no lake);
- the top overdue customers per currency (open amount past due, largest first);
- customer service in the last 30 days: first-response and resolution times against their
  targets, disputes and their amounts, cases by reason and outcome, CSAT (the service report,
  functions/reporting/dashboard_service.py);
- the riskiest customers (the ``TOP_RISKY`` highest payment risk scores over the 12 months to
  ``as_of``, with their band and the factor that added the most points) and the customers per
  behaviour segment, from the lake (functions/reporting/behaviour.py).

Every number a chart draws is also written as text (tables, and each chart's ``<title>``), for
screen readers and for tests. The page has no script: no build step, nothing to load, and a
Content-Security-Policy that forbids scripts outright (``shared.http.pages.HEADERS``).

Who may open it: staff with ``READ_REPORTS`` (their API key), or anyone holding a signed link
minted by such staff (``POST /dashboard/links``: ``?token=`` valid 15 minutes, see
shared/domain/signed_links.py), so the page opens in a browser, which cannot send the key.
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from functools import cache
from pathlib import Path
from string import Template
from typing import Annotated, Any

from pydantic import ConfigDict, StringConstraints

from functions.reporting import dashboard_kpis, dashboard_service
from shared import clock, errors
from shared.domain import signed_links
from shared.domain.dates import BusinessDate
from shared.domain.payment import PaymentStatus
from shared.model import Model
from shared.store import readable

PATH = "/dashboard"
TEMPLATE = Path(__file__).resolve().parent / "templates" / "dashboard.html"
TREND_MONTHS = 6
TOP_OVERDUE = 10  # customers per currency
TOP_RISKY = 5  # customers on the riskiest panel
COUNT_CAP = 1000  # payments counted for the worklist tile, at most


@dataclass(frozen=True)
class Dashboard:
    """What the page shows (the reports' wire forms and the worklist counts)."""

    as_of: date
    aging: dict[str, Any]  # AgingReport.to_wire()
    trend: list[dict[str, Any]]  # reports.dso_trend(...)
    payments_to_apply: int
    payments_to_apply_capped: bool
    collections_customers: int
    skipped: tuple[dict[str, str], ...] = ()  # stored records that did not read (readable.wire)
    behaviour: tuple[dict[str, Any], ...] | None = None  # Behaviour.to_wire(); None: no lake
    kpis: dict[str, Any] | None = None  # the lake's KpiReport.to_wire() of the last 30 days
    service: dict[str, Any] | None = None  # the service report of the last 30 days


# --- access ------------------------------------------------------------------------------------


def mint_link(now: datetime | None = None) -> signed_links.SignedLink:
    """A link to the dashboard, valid ``signed_links.LIFETIME_SECONDS`` from now."""
    moment = now or clock.now()
    return signed_links.sign(PATH, secret=_secrets()[0], now=int(moment.timestamp()))


def link_wire(link: signed_links.SignedLink, page_url: str = "") -> dict[str, Any]:
    """The answer of POST /dashboard/links; ``page_url`` is the page's absolute URL, when known."""
    return {
        "url": f"{page_url}?token={link.token}" if page_url else link.relative_url,
        "path": link.relative_url,
        "expires_at": datetime.fromtimestamp(link.expires_at, UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
    }


class DashboardQuery(Model):
    """The query string of GET /dashboard."""

    model_config = ConfigDict(extra="forbid")

    token: Annotated[str, StringConstraints(min_length=1, max_length=256)] | None = None
    as_of: BusinessDate | None = None  # default: today (UTC)


def check_token(token: str, now: datetime | None = None) -> None:
    """Let the holder of a valid link in; 401 for a forged, altered or expired one."""
    moment = now or clock.now()
    try:
        signed_links.verify(PATH, token, secrets=_secrets(), now=int(moment.timestamp()))
    except signed_links.ExpiredLinkError:
        raise errors.Unauthenticated(
            "link-expired", "Link expired", "the link has expired; ask for a new one"
        ) from None
    except signed_links.InvalidLinkError:
        raise errors.Unauthenticated(
            "invalid-link", "Invalid link", "the link is not valid for this page"
        ) from None


def _secrets() -> tuple[str, ...]:
    from shared.adapters import secrets

    try:
        return secrets.dashboard_link_secrets()
    except secrets.SecretsNotConfiguredError:
        raise errors.Unavailable(
            "links-not-configured",
            "Signed links are not configured",
            "this deployment has no dashboard link secret; open the page with a staff key",
        ) from None


# --- gathering ---------------------------------------------------------------------------------


def gather(as_of: date) -> Dashboard:
    from functions.dunning.worklist import overdue_invoices
    from functions.reporting.reports import aging_report

    with readable.skipping() as skipped:  # a record that does not read is named, not fatal
        waiting, capped = _payments_to_apply()
        aged = aging_report(as_of).to_wire()
        figures = dashboard_kpis.gather(as_of, TREND_MONTHS)
        overdue = {invoice.customer_id for invoice in overdue_invoices(as_of)}
        service = dashboard_service.gather(as_of)
    return Dashboard(
        service=service,
        behaviour=_behaviour(as_of),
        kpis=figures.kpis,
        as_of=as_of,
        aging=aged,
        trend=figures.trend,
        payments_to_apply=waiting,
        payments_to_apply_capped=capped,
        collections_customers=len(overdue),
        skipped=tuple(readable.wire(skipped)),
    )


def _behaviour(as_of: date) -> tuple[dict[str, Any], ...] | None:
    """Every customer's behaviour, riskiest first (None where the lake is not configured)."""
    from functions.reporting.behaviour import DEFAULT_MONTHS, behaviour_of, riskiest, window_start

    try:
        found = behaviour_of(None, as_of, window_start(as_of, DEFAULT_MONTHS))
    except errors.Unavailable:
        return None
    return tuple(one.to_wire() for one in riskiest(found.customers))


def _payments_to_apply() -> tuple[int, bool]:
    """Payments unapplied or partially applied (the cash-application worklist), up to the cap."""
    from shared.store import payments

    counted = 0
    for status in (PaymentStatus.UNAPPLIED, PaymentStatus.PARTIALLY_APPLIED):
        cursor: str | None = None
        while counted < COUNT_CAP:
            page = payments.list_by_status(status, limit=100, cursor=cursor)
            counted += sum(1 for item in page.items if item.get("entity") == "Payment")
            if not (cursor := page.cursor):
                break
    return min(counted, COUNT_CAP), counted >= COUNT_CAP


def page(as_of: date | None = None) -> str:
    return render(gather(as_of or clock.now().astimezone(UTC).date()))


# --- rendering (pure) --------------------------------------------------------------------------


@cache
def _template() -> Template:
    return Template(TEMPLATE.read_text(encoding="utf-8"))


def render(dashboard: Dashboard) -> str:
    """The page's HTML."""
    return _template().substitute(
        as_of=dashboard.as_of.isoformat(),
        counts=_counts(dashboard),
        unapplied=_unapplied(dashboard.aging),
        aging=_aging(dashboard.aging),
        trend=_trend(dashboard.trend),
        cei=dashboard_kpis.cei_panel(dashboard.kpis),
        service=dashboard_service.panel(dashboard.service),
        overdue=_overdue(dashboard.aging),
        riskiest=_riskiest(dashboard.behaviour),
        segments=_segments(dashboard.behaviour),
        skipped=_skipped(dashboard.skipped),
    )


def _e(text: Any) -> str:
    return html.escape(str(text), quote=True)


def _decimal(text: Any) -> Decimal:
    try:
        return Decimal(str(text))
    except InvalidOperation:
        return Decimal(0)


def amount(text: Any) -> str:
    """``"12345.5"`` -> ``"12,345.50"`` for a two-decimal currency (the wire keeps the places)."""
    return f"{_decimal(text):,}"


def _counts(dashboard: Dashboard) -> str:
    shown = f"{dashboard.payments_to_apply}{'+' if dashboard.payments_to_apply_capped else ''}"
    tiles = [
        ("payments-to-apply", shown, "payments to apply"),
        ("collections-worklist", str(dashboard.collections_customers), "customers to collect"),
    ]
    return "".join(
        f'<div class="count" id="{name}"><span class="value" data-count="{name}">{_e(value)}'
        f'</span><span class="label">{_e(label)}</span></div>'
        for name, value, label in tiles
    )


def _currencies(aging: dict[str, Any]) -> list[dict[str, Any]]:
    return list(aging.get("currencies", []))


def _unapplied(aging: dict[str, Any]) -> str:
    rows = [
        (group["currency"], group["totals"].get("unapplied", "0"))
        for group in _currencies(aging)
        if _decimal(group["totals"].get("unapplied", "0")) != 0
    ]
    if not rows:
        return '<p class="empty">No unapplied cash.</p>'
    body = "".join(
        f'<tr><td>{_e(currency)}</td><td class="num" data-unapplied="{_e(currency)}">'
        f"{_e(amount(value))}</td></tr>"
        for currency, value in rows
    )
    return (
        '<table><thead><tr><th scope="col">Currency</th><th scope="col" class="num">Unapplied'
        f"</th></tr></thead><tbody>{body}</tbody></table>"
    )


def _aging(aging: dict[str, Any]) -> str:
    groups = _currencies(aging)
    if not groups:
        return '<p class="empty">Nothing is open.</p>'
    labels = list(aging.get("buckets", []))
    return "".join(_aging_currency(group, labels) for group in groups)


def _aging_currency(group: dict[str, Any], labels: list[str]) -> str:
    currency = group["currency"]
    totals = group["totals"]
    values = [_decimal(totals["buckets"].get(label, "0")) for label in labels]
    chart = _bar_chart(currency, labels, values)
    head = "".join(f'<th scope="col" class="num">{_e(label)}</th>' for label in labels)
    cells = "".join(
        f'<td class="num" data-currency="{_e(currency)}" data-bucket="{_e(label)}">'
        f"{_e(amount(value))}</td>"
        for label, value in zip(labels, values, strict=True)
    )
    total = (
        f'<td class="num" data-currency="{_e(currency)}" data-bucket="total">'
        f"{_e(amount(totals['total']))}</td>"
    )
    return (
        f'<h3 id="aging-{_e(currency)}">{_e(currency)}</h3>{chart}'
        f'<table><thead><tr><th scope="col">Days past due</th>{head}'
        f'<th scope="col" class="num">Total</th></tr></thead>'
        f'<tbody><tr class="total" data-row="total"><td>All customers</td>{cells}{total}</tr>'
        "</tbody></table>"
    )


def _bar_chart(currency: str, labels: list[str], values: list[Decimal]) -> str:
    width, height, top, bottom, left = 560, 220, 24, 36, 10
    plot = height - top - bottom
    slot = (width - 2 * left) / max(len(labels), 1)
    highest = max([*values, Decimal(0)])
    title = f"AR aging in {currency}: " + ", ".join(
        f"{label} {amount(value)}" for label, value in zip(labels, values, strict=True)
    )
    parts = [
        f'<svg role="img" aria-labelledby="aging-chart-{_e(currency)}" width="{width}" '
        f'height="{height}" viewBox="0 0 {width} {height}" data-chart="aging" '
        f'data-currency="{_e(currency)}">',
        f'<title id="aging-chart-{_e(currency)}">{_e(title)}</title>',
        f'<line class="axis" x1="{left}" y1="{top + plot}" x2="{width - left}" y2="{top + plot}"/>',
    ]
    for index, (label, value) in enumerate(zip(labels, values, strict=True)):
        bar = float(value / highest) * plot if highest > 0 and value > 0 else 0.0
        x = left + index * slot + slot * 0.15
        y = top + plot - bar
        kind = "bar" if index == 0 else ("bar late" if index >= len(labels) - 2 else "bar overdue")
        parts.append(
            f'<rect class="{kind}" x="{x:.1f}" y="{y:.1f}" width="{slot * 0.7:.1f}" '
            f'height="{bar:.1f}" data-bucket="{_e(label)}" data-value="{_e(value)}"/>'
        )
        centre = x + slot * 0.35
        parts.append(
            f'<text x="{centre:.1f}" y="{y - 6:.1f}" text-anchor="middle">{_e(amount(value))}'
            "</text>"
        )
        parts.append(
            f'<text x="{centre:.1f}" y="{top + plot + 18}" text-anchor="middle">{_e(label)}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)


def _trend(trend: list[dict[str, Any]]) -> str:
    currencies = sorted({currency for month in trend for currency in month.get("dso", {})})
    if not trend or not currencies:
        return '<p class="empty">No sales yet: DSO is undefined.</p>'
    months = [month["month"] for month in trend]
    charts = "".join(_line_chart(currency, trend) for currency in currencies)
    head = "".join(f'<th scope="col" class="num">{_e(currency)}</th>' for currency in currencies)
    rows = "".join(
        f"<tr><td>{_e(month['month'])}</td>"
        + "".join(
            f'<td class="num" data-month="{_e(month["month"])}" data-currency="{_e(currency)}">'
            f"{_e(month['dso'].get(currency) or '-')}</td>"
            for currency in currencies
        )
        + "</tr>"
        for month in trend
    )
    return (
        f"{charts}<table><caption>Standard DSO (days) per month, {_e(months[0])} to "
        f'{_e(months[-1])}</caption><thead><tr><th scope="col">Month</th>{head}</tr></thead>'
        f"<tbody>{rows}</tbody></table>"
    )


def _line_chart(currency: str, trend: list[dict[str, Any]]) -> str:
    width, height, top, bottom, left = 560, 200, 24, 36, 30
    plot_w, plot_h = width - 2 * left, height - top - bottom
    values = [month["dso"].get(currency) for month in trend]
    known = [_decimal(value) for value in values if value is not None]
    highest = max([*known, Decimal(1)])
    step = plot_w / max(len(trend) - 1, 1)
    title = f"DSO in {currency} by month: " + ", ".join(
        f"{month['month']} {value if value is not None else 'undefined'}"
        for month, value in zip(trend, values, strict=True)
    )
    parts = [
        f'<svg role="img" aria-labelledby="dso-chart-{_e(currency)}" width="{width}" '
        f'height="{height}" viewBox="0 0 {width} {height}" data-chart="dso" '
        f'data-currency="{_e(currency)}">',
        f'<title id="dso-chart-{_e(currency)}">{_e(title)}</title>',
        f'<line class="axis" x1="{left}" y1="{top + plot_h}" x2="{width - left}" '
        f'y2="{top + plot_h}"/>',
    ]
    points: list[tuple[float, float, str]] = []
    for index, (month, value) in enumerate(zip(trend, values, strict=True)):
        x = left + index * step
        parts.append(
            f'<text x="{x:.1f}" y="{top + plot_h + 18}" text-anchor="middle">'
            f"{_e(month['month'])}</text>"
        )
        if value is not None:
            y = top + plot_h - float(_decimal(value) / highest) * plot_h
            points.append((x, y, str(value)))
    if not points:
        parts.append(
            f'<text x="{width / 2:.0f}" y="{top + plot_h / 2:.0f}" text-anchor="middle">'
            "No credit sales in these months: DSO is undefined</text>"
        )
    if len(points) > 1:
        line = " ".join(f"{x:.1f},{y:.1f}" for x, y, _ in points)
        parts.append(f'<polyline class="line" points="{line}"/>')
    for x, y, value in points:
        parts.append(f'<circle class="point" cx="{x:.1f}" cy="{y:.1f}" r="3"/>')
        parts.append(f'<text x="{x:.1f}" y="{y - 8:.1f}" text-anchor="middle">{_e(value)}</text>')
    parts.append("</svg>")
    return f"<h3>{_e(currency)}</h3>{''.join(parts)}"


def overdue_rows(aging: dict[str, Any]) -> list[dict[str, Any]]:
    """Per currency, the customers with the most past due (total less current), largest first."""
    labels = list(aging.get("buckets", []))
    rows: list[dict[str, Any]] = []
    for group in _currencies(aging):
        found = []
        for customer in group.get("customers", []):
            buckets = customer.get("buckets", {})
            past_due = _decimal(customer.get("total", "0")) - _decimal(buckets.get("current", "0"))
            if past_due <= 0:
                continue
            oldest = next(
                (label for label in reversed(labels) if _decimal(buckets.get(label, "0")) > 0),
                "",
            )
            found.append(
                {
                    "customer_id": customer.get("customer_id", ""),
                    "customer_name": customer.get("customer_name") or customer.get("customer_id"),
                    "currency": group["currency"],
                    "past_due": past_due,
                    "oldest": oldest,
                    "total": _decimal(customer.get("total", "0")),
                }
            )
        found.sort(key=lambda row: (-row["past_due"], row["customer_id"]))
        rows += found[:TOP_OVERDUE]
    return rows


def _overdue(aging: dict[str, Any]) -> str:
    rows = overdue_rows(aging)
    if not rows:
        return '<p class="empty">No customer is past due.</p>'
    body = "".join(
        f'<tr data-customer="{_e(row["customer_id"])}" data-currency="{_e(row["currency"])}">'
        f"<td>{_e(row['customer_name'])}</td><td>{_e(row['currency'])}</td>"
        f'<td class="num" data-field="past_due">{_e(amount(row["past_due"]))}</td>'
        f"<td>{_e(row['oldest'])}</td>"
        f'<td class="num" data-field="total">{_e(amount(row["total"]))}</td></tr>'
        for row in rows
    )
    return (
        '<table><thead><tr><th scope="col">Customer</th><th scope="col">Currency</th>'
        '<th scope="col" class="num">Past due</th><th scope="col">Oldest bucket</th>'
        f'<th scope="col" class="num">Open</th></tr></thead><tbody>{body}</tbody></table>'
    )


def top_factor(customer: dict[str, Any]) -> dict[str, Any] | None:
    """The factor that added the most points (the first of equals); None when none added any."""
    factors = [f for f in customer["risk"]["factors"] if _decimal(f["points"]) > 0]
    return max(factors, key=lambda f: _decimal(f["points"]), default=None)


def _riskiest(behaviour: tuple[dict[str, Any], ...] | None) -> str:
    if behaviour is None:
        return '<p class="empty">The lake is not configured: no behaviour to show.</p>'
    if not behaviour:
        return '<p class="empty">No customer behaviour yet.</p>'
    rows = []
    for customer in behaviour[:TOP_RISKY]:
        factor = top_factor(customer)
        reason = "-" if factor is None else f"{factor['factor']} (+{factor['points']})"
        rows.append(
            f'<tr data-risky="{_e(customer["customer_id"])}" '
            f'data-currency="{_e(customer["currency"])}">'
            f"<td>{_e(customer['customer_name'] or customer['customer_id'])}</td>"
            f"<td>{_e(customer['currency'])}</td>"
            f'<td class="num" data-field="score">{_e(customer["risk"]["score"])}</td>'
            f'<td data-field="band">{_e(customer["risk"]["band"])}</td>'
            f'<td data-field="factor">{_e(reason)}</td></tr>'
        )
    return (
        '<table><thead><tr><th scope="col">Customer</th><th scope="col">Currency</th>'
        '<th scope="col" class="num">Risk score</th><th scope="col">Band</th>'
        f'<th scope="col">First factor</th></tr></thead><tbody>{"".join(rows)}</tbody></table>'
    )


def segment_counts(behaviour: tuple[dict[str, Any], ...]) -> dict[str, int]:
    """Customers (per currency) in each behaviour segment, most first."""
    counts: dict[str, int] = {}
    for customer in behaviour:
        segment = customer["rfm"]["segment"]
        counts[segment] = counts.get(segment, 0) + 1
    return dict(sorted(counts.items(), key=lambda item: (-item[1], item[0])))


def _segments(behaviour: tuple[dict[str, Any], ...] | None) -> str:
    if behaviour is None:
        return '<p class="empty">The lake is not configured: no behaviour to show.</p>'
    if not behaviour:
        return '<p class="empty">No customer behaviour yet.</p>'
    rows = "".join(
        f'<tr><td>{_e(segment)}</td><td class="num" data-segment="{_e(segment)}">{count}</td></tr>'
        for segment, count in segment_counts(behaviour).items()
    )
    return (
        '<table><thead><tr><th scope="col">Segment</th><th scope="col" class="num">Customers'
        f"</th></tr></thead><tbody>{rows}</tbody></table>"
    )


def _skipped(skipped: tuple[dict[str, str], ...]) -> str:
    """The records left out of the figures because they did not read (nothing when none)."""
    if not skipped:
        return ""
    rows = "".join(
        f"<tr><td>{_e(record['pk'])}</td><td>{_e(record['sk'])}</td>"
        f"<td>{_e(record['reason'])}</td></tr>"
        for record in skipped
    )
    return (
        '<section id="skipped" aria-labelledby="skipped-title">'
        '<h2 id="skipped-title">Records left out</h2>'
        "<p>These stored records could not be read; the figures above leave them out.</p>"
        '<table><thead><tr><th scope="col">Partition</th><th scope="col">Sort key</th>'
        f'<th scope="col">Reason</th></tr></thead><tbody>{rows}</tbody></table></section>'
    )
