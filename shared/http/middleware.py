"""The app's own middleware: who acts in an invocation, and every error as a problem.

Registered once by the composition root (app.py); imported at every cold start, so it imports
only chalice and the light shared.http modules at module level.
"""

from __future__ import annotations

import json
from typing import Any

from chalice import Response

from shared.http import pages, problems


def acting(event: Any, get_response: Any) -> Any:
    """Events this invocation causes name ``system:<function>`` until a principal is known.

    A route's check of its caller (shared.http.routing) replaces it with the authenticated
    principal; the actor before is restored afterwards, as a warm Lambda runs the next
    invocation in the same context.
    """
    from shared import actor

    context = getattr(event, "context", None) or getattr(event, "lambda_context", None)
    with actor.acting_as(actor.system(getattr(context, "function_name", None))):
        return get_response(event)


def problem_details(request: Any, get_response: Any) -> Response:
    """Every error leaves as application/problem+json, whoever raised it (a browser page's, as
    an HTML page to a browser)."""
    try:
        response = get_response(request)
    except problems.Problem as problem:
        if problem.page and pages.wants_html(request.headers):
            return pages.problem_page(problem)
        return _problem_response(problem, request.path)
    if response.status_code >= 400 and not response.headers.get("Content-Type", "").startswith(
        problems.CONTENT_TYPE
    ):
        return _problem_response(
            problems.from_framework(response.status_code, response.body), request.path
        )
    return response


def _problem_response(problem: problems.Problem, path: str) -> Response:
    return Response(
        body=json.dumps(problem.body(instance=path)),
        status_code=problem.status,
        headers={"Content-Type": problems.CONTENT_TYPE, **problem.headers},
    )
