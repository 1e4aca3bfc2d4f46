"""HTML pages served by the API to browsers (the customer portal): their headers, and the page
a browser gets for an error (a ``Problem`` raised with ``page=True``).

Imported by the app's middleware at every cold start: standard library only.
"""

from __future__ import annotations

from collections.abc import Mapping
from html import escape

from chalice import Response

from shared.http.problems import Problem

_POLICY = (
    "default-src 'none'; style-src 'unsafe-inline'; img-src data:; "
    "frame-ancestors 'none'; base-uri 'none'; form-action "
)
HEADERS: dict[str, str | list[str]] = {
    "Content-Type": "text/html; charset=utf-8",
    "Cache-Control": "no-store",
    # Self-contained pages: no script, no fetch, nothing framed, styles inline, images inline.
    "Content-Security-Policy": _POLICY + "'none'",
    # A link's token is a bearer credential in the URL: never hand it on to another site.
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
}
# The portal's page also holds forms: they post to the API only, whose answer may send the
# browser on to Stripe's payment page (form-action covers the redirect after a submission).
PORTAL_HEADERS: dict[str, str | list[str]] = {
    **HEADERS,
    "Content-Security-Policy": _POLICY + "'self' https://checkout.stripe.com",
}


def wants_html(headers: Mapping[str, str]) -> bool:
    """A browser's request: its Accept names ``text/html`` (every navigation does) and no JSON.

    Any other client (API tools, which name JSON or nothing) gets problem+json, as everywhere."""
    accept = (headers.get("accept") or "").lower()
    return "text/html" in accept and "json" not in accept


def problem_page(problem: Problem) -> Response:
    """The problem as a small HTML page with the problem's status and headers."""
    body = (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        '<meta name="referrer" content="no-referrer">'
        f"<title>{escape(problem.title)}</title>"
        "<style>body{font-family:system-ui,sans-serif;margin:0 auto;max-width:40rem;"
        "padding:1.5rem;color:#1d2430}h1{font-size:1.4rem}</style></head><body>"
        f'<main><h1>{escape(problem.title)}</h1><p id="detail">{escape(problem.detail)}</p>'
        f'<p class="status">Error {problem.status}</p></main></body></html>'
    )
    return Response(body=body, status_code=problem.status, headers={**problem.headers, **HEADERS})
