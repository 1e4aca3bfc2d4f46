"""The refusals a use case raises, free of HTTP: the HTTP layer renders each as a problem.

Each carries what its answer needs: a stable ``kind`` (the problem type's slug), a ``title``, a
``detail`` for humans, pointer ``errors`` and extra members. ``shared.http.problems.of`` is the
one place they become problem+json (status by class, Retry-After from ``retry_after``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pydantic import ValidationError


class DomainError(Exception):
    """A request refused; subclasses say how (not found, conflict, unprocessable...)."""

    def __init__(
        self,
        kind: str,
        title: str,
        detail: str,
        *,
        errors: list[dict[str, Any]] | None = None,
        extensions: dict[str, Any] | None = None,
        retry_after: int | None = None,
    ) -> None:
        super().__init__(detail)
        self.kind = kind
        self.title = title
        self.detail = detail
        self.errors = errors
        self.extensions = extensions or {}
        self.retry_after = retry_after  # seconds after which a retry may succeed


class NotFound(DomainError):
    """``what`` does not exist (or is not the caller's to see)."""

    def __init__(self, what: str) -> None:
        super().__init__("not-found", "Not found", f"{what} does not exist")


class Conflict(DomainError):
    """The resource is not in a state that allows the request (e.g. already shipped).

    ``current_version``: the version the resource is at now, for a client that lost a race;
    ``retry_after``: seconds after which the state may allow it (e.g. a document rendering)."""

    def __init__(
        self,
        kind: str,
        detail: str,
        *,
        current_version: int | None = None,
        retry_after: int | None = None,
        title: str = "Conflict",
    ) -> None:
        extensions = {} if current_version is None else {"current_version": current_version}
        super().__init__(kind, title, detail, extensions=extensions, retry_after=retry_after)


class Unprocessable(DomainError):
    """A well-formed request the business rules refuse; ``errors`` point at what failed."""

    def __init__(
        self,
        kind: str,
        detail: str,
        errors: list[dict[str, Any]] | None = None,
        *,
        title: str = "Request refused",
    ) -> None:
        super().__init__(kind, title, detail, errors=errors)


def invalid_fields(error: ValidationError) -> Unprocessable:
    """422 with one entry per failing field, as a JSON pointer into the document validated."""
    errors = [
        {"pointer": pointer(*item["loc"]), "detail": item["msg"]}
        for item in error.errors(include_url=False, include_input=False)
    ]
    return Unprocessable(
        "validation-error",
        f"{len(errors)} field(s) failed validation",
        errors,
        title="Request body is invalid",
    )


def pointer(*path: str | int) -> str:
    """The JSON pointer (RFC 6901, as a URI fragment) to ``path``: ``pointer("lines", 0)``."""
    return "#" + "".join("/" + str(part).replace("~", "~0").replace("/", "~1") for part in path)


class Forbidden(DomainError):
    """The caller may not do this."""

    def __init__(self, detail: str, *, kind: str = "forbidden", title: str = "Forbidden") -> None:
        super().__init__(kind, title, detail)


class Invalid(DomainError):
    """The request itself does not read (a bad signature, an unreadable event)."""


class InvalidQuery(DomainError):
    """Bad URL parameters: each of ``errors`` holds {"parameter", "detail"} (and "in": "path")."""

    def __init__(self, errors: list[dict[str, Any]]) -> None:
        super().__init__("invalid-query", "Invalid query", "see errors", errors=errors)


class Unauthenticated(DomainError):
    """The caller did not prove who it is (an expired or invalid link)."""


class TooLarge(DomainError):
    """What was sent exceeds what is accepted."""

    def __init__(self, detail: str) -> None:
        super().__init__("payload-too-large", "Body too large", detail)


class UnsupportedMediaType(DomainError):
    """The body is sent as a media type the request does not take."""

    def __init__(self, content_type: str | None, expected: str = "application/json") -> None:
        sent = f"Content-Type {content_type!r}" if content_type else "no Content-Type"
        super().__init__(
            "unsupported-media-type",
            "Unsupported media type",
            f"the body is sent with {sent}; send it as {expected}",
        )


class Gone(DomainError):
    """The resource existed and no longer does."""


class UpstreamFailed(DomainError):
    """A service this request relies on answered with a failure."""


class Unavailable(DomainError):
    """A service this request needs is busy, unreachable or not configured; ``retry_after``
    (seconds) when a retry may succeed."""


RETRY_AFTER_SECONDS = 2


def busy() -> Unavailable:
    """AWS was slow, throttled or unreachable; nothing half-done stays, the retry finishes."""
    return Unavailable(
        "service-unavailable",
        "Service unavailable",
        "a service this request needs is busy or unreachable; retry the same request (with the "
        "same Idempotency-Key) shortly",
        retry_after=RETRY_AFTER_SECONDS,
    )
