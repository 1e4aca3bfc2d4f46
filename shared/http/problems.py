"""RFC 9457 problem details: every error the API gives is one of these."""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Callable, Iterator
from typing import Any

from chalice.app import ChaliceUnhandledError
from pydantic import ValidationError

from shared import errors as domain_errors

PROBLEM_BASE = "https://otc.example/problems/"
CONTENT_TYPE = "application/problem+json"


class Problem(ChaliceUnhandledError):
    """An error answer. ``kind`` becomes the stable ``type`` URI; ``detail`` is for humans.

    It derives from Chalice's unhandled error so that it passes the view and reaches the
    middleware that renders it (any other exception would become a bare 500 there).
    """

    def __init__(
        self,
        status: int,
        kind: str,
        title: str,
        detail: str,
        *,
        errors: list[dict[str, Any]] | None = None,
        headers: dict[str, str] | None = None,
        extensions: dict[str, Any] | None = None,
        page: bool = False,
    ) -> None:
        super().__init__(detail)
        self.status = status
        self.kind = kind
        self.title = title
        self.detail = detail
        self.errors = errors
        self.headers = headers or {}
        self.extensions = extensions or {}  # RFC 9457 extension members (e.g. current_version)
        # A browser page's error: an HTML page to a browser (shared.http.pages.wants_html)
        self.page = page

    def body(self, instance: str | None = None) -> dict[str, Any]:
        body: dict[str, Any] = {
            "type": PROBLEM_BASE + self.kind,
            "title": self.title,
            "status": self.status,
            "detail": self.detail,
        }
        if instance:
            body["instance"] = instance
        if self.errors is not None:
            body["errors"] = self.errors
        return {**self.extensions, **body}


def invalid_body(error: ValidationError) -> Problem:
    """422 with one entry per failing field, as a JSON pointer into the request body."""
    return of(domain_errors.invalid_fields(error))


pointer = domain_errors.pointer


def unsupported_media_type(content_type: str | None) -> Problem:
    return of(domain_errors.UnsupportedMediaType(content_type))


def unauthorized() -> Problem:
    return Problem(
        401,
        "unauthorized",
        "Unauthorized",
        "a valid X-Api-Key header is required",
        headers={"WWW-Authenticate": 'ApiKey header="X-Api-Key"'},
    )


def forbidden(detail: str) -> Problem:
    return of(domain_errors.Forbidden(detail))


def invalid_query(errors: list[dict[str, Any]]) -> Problem:
    """400 for bad URL parameters; ``errors`` hold {"parameter", "detail"} (and "in": "path"
    for a path parameter).

    Each leaves as a body problem's do, {"pointer", "detail"}, pointing at ``#/query/<name>``
    or ``#/path/<name>`` (at ``#/query`` for the parameters together: no "parameter").
    """
    return of(domain_errors.InvalidQuery(errors))


def conflict(kind: str, detail: str, *, current_version: int | None = None) -> Problem:
    """409: the resource is not in a state that allows the request (e.g. already shipped).

    ``current_version``: the version the resource is at now, for a client that lost a race to
    read again (or retry with) instead of guessing."""
    return of(domain_errors.Conflict(kind, detail, current_version=current_version))


def unprocessable(kind: str, detail: str, errors: list[dict[str, Any]] | None = None) -> Problem:
    """422 for a well-formed request the business rules refuse (unknown SKU, price mismatch)."""
    return of(domain_errors.Unprocessable(kind, detail, errors))


def not_found(what: str) -> Problem:
    return of(domain_errors.NotFound(what))


def idempotency_key_required() -> Problem:
    return Problem(
        400,
        "idempotency-key-required",
        "Idempotency-Key required",
        "send an Idempotency-Key header (1-255 printable characters) with every POST",
    )


def idempotency_key_reused() -> Problem:
    return Problem(
        422,
        "idempotency-key-reused",
        "Idempotency-Key reused",
        "this Idempotency-Key was used with a different request body",
    )


def request_in_progress() -> Problem:
    return Problem(
        409,
        "request-in-progress",
        "Request in progress",
        "a request with this Idempotency-Key is still being processed; retry shortly",
        headers={"Retry-After": "1"},
    )


RETRY_AFTER_SECONDS = domain_errors.RETRY_AFTER_SECONDS


def service_unavailable() -> Problem:
    """503: AWS was slow, throttled or unreachable; nothing half-done stays, the retry finishes."""
    return of(domain_errors.busy())


STATUS: dict[type[domain_errors.DomainError], int] = {
    domain_errors.Invalid: 400,
    domain_errors.InvalidQuery: 400,
    domain_errors.Unauthenticated: 401,
    domain_errors.Forbidden: 403,
    domain_errors.NotFound: 404,
    domain_errors.Conflict: 409,
    domain_errors.Gone: 410,
    domain_errors.TooLarge: 413,
    domain_errors.UnsupportedMediaType: 415,
    domain_errors.Unprocessable: 422,
    domain_errors.UpstreamFailed: 502,
    domain_errors.Unavailable: 503,
}


def of(error: domain_errors.DomainError) -> Problem:
    """The problem a use case's refusal answers: the one mapping from domain errors to HTTP."""
    status = next(code for kind, code in STATUS.items() if isinstance(error, kind))
    errors = error.errors
    if isinstance(error, domain_errors.InvalidQuery):
        errors = [
            {
                "pointer": pointer(item.get("in", "query"), *filter(None, [item.get("parameter")])),
                "detail": item["detail"],
            }
            for item in error.errors or []
        ]
    retry_after = error.retry_after
    return Problem(
        status,
        error.kind,
        error.title,
        error.detail,
        errors=errors,
        headers={} if retry_after is None else {"Retry-After": str(retry_after)},
        extensions=error.extensions,
    )


def unreadable_record(pk: str, sk: str) -> Problem:
    """409: the resource's stored state does not read; an operator must repair it.

    Names the record's key, never its content (nor why it did not read: that is logged)."""
    return Problem(
        409,
        "unreadable-record",
        "Stored record unreadable",
        f"the stored state of this resource cannot be read (record {pk} / {sk}); nothing was "
        "changed, and an operator must repair the record before it can be read or changed",
        extensions={"record": {"pk": pk, "sk": sk}},
    )


@contextlib.contextmanager
def as_page(*kinds: type[domain_errors.DomainError]) -> Iterator[None]:
    """Problems raised inside answer as an HTML page to a browser (see ``Problem.page``); with
    ``kinds``, only the refusals of those kinds do (the others stay problem+json)."""
    try:
        yield
    except Problem as problem:
        problem.page = problem.page or not kinds
        raise
    except domain_errors.DomainError as error:
        refusal = of(error)
        refusal.page = not kinds or isinstance(error, kinds)
        raise refusal from error


def answering_outages(view: Callable[..., Any]) -> Callable[..., Any]:
    """``view``, answering ``service_unavailable`` when AWS is slow, throttled or unreachable,
    and ``unreadable_record`` when a record it needs does not read.

    The one place an AWS outage or an unreadable record becomes an answer. Chalice renders any
    exception but its own as a bare 500 before middleware sees it, so the mapping wraps each view.
    """

    @functools.wraps(view)
    def answering(*args: Any, **kwargs: Any) -> Any:
        from shared.store.readable import UnreadableRecord

        try:
            return view(*args, **kwargs)
        except Problem:
            raise
        except domain_errors.DomainError as error:
            raise of(error) from error
        except UnreadableRecord as unreadable:
            raise unreadable_record(unreadable.pk, unreadable.sk) from unreadable
        except Exception as error:
            from shared.adapters import aws
            from shared.observability import logger

            if not aws.unavailable(error):
                raise
            logger.warning("AWS unavailable; answered 503", extra={"error": repr(error)[:1000]})
            raise service_unavailable() from error

    return answering


def from_framework(status: int, body: Any) -> Problem:
    """Re-express an error the framework produced itself (unknown route, media type, crash)."""
    if status >= 500:
        return Problem(500, "internal-error", "Internal error", "an unexpected error occurred")
    message = body.get("Message", "") if isinstance(body, dict) else ""
    code = body.get("Code", "") if isinstance(body, dict) else ""
    if status == 415:
        detail = message or "send the body as application/json"
        return Problem(415, "unsupported-media-type", "Unsupported media type", detail)
    kind = {405: "method-not-allowed", 404: "not-found"}.get(status, "bad-request")
    return Problem(status, kind, code or "Request rejected", message or "the request was rejected")
