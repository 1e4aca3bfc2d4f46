"""The dashboard's customer-service panel: the service report's figures of the last
``SERVICE_DAYS`` days (``functions.cases.service_report.service_between``, the same function as
GET /reports/service and the ``service`` block of GET /reports/kpis), as tables.

Each figure's cell carries ``data-service`` (the figure), ``data-reason``, ``data-outcome`` or
``data-disputed`` (a currency), so a test or a reader finds it by name, not by position.
"""

from __future__ import annotations

import html
from datetime import date, timedelta
from typing import Any

SERVICE_DAYS = 30


def gather(as_of: date) -> dict[str, Any]:
    from functions.cases.service_report import service_between

    return service_between(as_of - timedelta(days=SERVICE_DAYS - 1), as_of)


def panel(service: dict[str, Any] | None) -> str:
    if service is None:
        return '<p class="empty">No service figures.</p>'
    if not service["opened"] and not service["closed"] and not service["satisfaction"]["responses"]:
        return '<p class="empty">No cases opened or closed in these days.</p>'
    response, resolution = service["first_response_hours"], service["resolution_hours"]
    disputes, satisfaction = service["disputes"], service["satisfaction"]
    figures = (
        ("opened", "Cases opened", service["opened"]),
        ("closed", "Cases closed", service["closed"]),
        ("first_response_median", "First response, median (hours)", response["median"]),
        ("first_response_p90", "First response, 90th percentile (hours)", response["p90"]),
        ("first_response_within_target", "First response within target", _share(response)),
        ("resolution_median", "Resolution, median (hours)", resolution["median"]),
        ("resolution_p90", "Resolution, 90th percentile (hours)", resolution["p90"]),
        ("resolution_within_target", "Resolution within target", _share(resolution)),
        ("disputes_opened", "Disputes opened", disputes["opened"]),
        ("dispute_days_median", "Days to resolve a dispute, median", _days(disputes, "median")),
        ("dispute_days_p90", "Days to resolve a dispute, 90th percentile", _days(disputes, "p90")),
        ("csat", "CSAT (scores 4 and 5)", _percent(satisfaction["csat"])),
        ("satisfaction_average", "Average score (1-5)", satisfaction["average"]),
        ("satisfaction_responses", "Survey answers", satisfaction["responses"]),
    )
    rows = "".join(
        f'<tr><th scope="row">{_e(label)}</th>'
        f'<td class="num" data-service="{name}">{_e(_shown(value))}</td></tr>'
        for name, label, value in figures
    )
    return (
        f"<table><caption>{_e(service['from'])} to {_e(service['to'])}</caption>"
        f"<tbody>{rows}</tbody></table>"
        + _counts("Disputed amount", "Currency", "disputed", disputes["amount"])
        + _counts("Cases opened by reason", "Reason", "reason", service["by_reason"])
        + _counts("Cases closed by outcome", "Outcome", "outcome", service["by_outcome"])
    )


def _counts(caption: str, heading: str, attribute: str, counted: dict[str, Any]) -> str:
    if not counted:
        return ""
    rows = "".join(
        f'<tr><td>{_e(key)}</td><td class="num" data-{attribute}="{_e(key)}">{_e(value)}</td></tr>'
        for key, value in counted.items()
    )
    return (
        f'<table><caption>{_e(caption)}</caption><thead><tr><th scope="col">{_e(heading)}</th>'
        f'<th scope="col" class="num">{"Amount" if attribute == "disputed" else "Cases"}</th>'
        f"</tr></thead><tbody>{rows}</tbody></table>"
    )


def _share(figures: dict[str, Any]) -> str | None:
    return _percent(figures["within_target"])


def _percent(share: float | None) -> str | None:
    return None if share is None else f"{share * 100:.1f} %"


def _days(disputes: dict[str, Any], which: str) -> Any:
    return disputes["days_to_resolve"][which]


def _shown(value: Any) -> str:
    return "-" if value is None else str(value)


def _e(text: Any) -> str:
    return html.escape(str(text), quote=True)
