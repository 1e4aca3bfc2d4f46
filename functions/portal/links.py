"""Portal links: a signed, expiring, revocable link per customer contact, and its check.

A link is ``/portal/<customer id>?token=<grant>``: the grant (shared/domain/signed_links.py)
signs the path (so the customer), the contact's e-mail address and when it was issued and
expires. It lives ``DEFAULT_LIFETIME_SECONDS`` unless staff ask for less or more, up to
``MAX_LIFETIME_SECONDS``. ``DELETE /customers/{id}/portal-links`` revokes every link of the
customer issued before that moment (shared/store/portal_access.py).

The links are signed with the deployment's link secret, the dashboard's (its rotation included):
the signed path keeps the two apart, a dashboard token opens no portal page and back.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from pydantic import ConfigDict, Field, StringConstraints

from functions.invoicing.documents import DocumentFormat
from shared import clock, errors
from shared.domain import signed_links
from shared.domain.access import Principal, Role
from shared.domain.customer import EmailAddress
from shared.model import Model

DAY = 24 * 3600
DEFAULT_LIFETIME_SECONDS = 14 * DAY
MAX_LIFETIME_SECONDS = 30 * DAY
MAX_ID_LENGTH = 64
PREFIX = "/portal"


class LinkRequest(Model):
    """The body of POST /customers/{customer_id}/portal-links."""

    model_config = ConfigDict(extra="forbid", strict=True)

    email: Annotated[EmailAddress, StringConstraints(max_length=254)]
    lifetime_seconds: int = Field(default=DEFAULT_LIFETIME_SECONDS, ge=60, le=MAX_LIFETIME_SECONDS)


class PortalQuery(Model):
    """The query string of the portal's pages: the link's token."""

    model_config = ConfigDict(extra="ignore")

    token: Annotated[str, StringConstraints(max_length=1024)] | None = None


class DocumentQuery(PortalQuery):
    """The query string of a portal document: the token and the format."""

    format: DocumentFormat = DocumentFormat.PDF


def path(customer_id: str) -> str:
    return f"{PREFIX}/{customer_id}"


def issue_link(customer_id: str, request: LinkRequest, base_url: str = "") -> dict[str, Any]:
    """A link to the customer's portal for the contact ``request.email``; 404 for an unknown
    customer. ``base_url`` is the API's URL as the caller reached it, when known."""
    from shared.store import customers, portal_access

    if len(customer_id) > MAX_ID_LENGTH or customers.get(customer_id) is None:
        raise errors.NotFound(f"customer {customer_id}")
    return _issue(customer_id, request, base_url, portal_access.links_valid_after(customer_id))


def _issue(
    customer_id: str, request: LinkRequest, base_url: str, links_valid_after: int
) -> dict[str, Any]:
    now = int(clock.now().timestamp())
    # Issued no earlier than the last revocation: a link issued in the second a revocation was
    # made must still open the portal.
    issued = max(now, links_valid_after)
    grant = signed_links.sign_grant(
        path(customer_id),
        request.email,
        secret=_secrets()[0],
        now=issued,
        lifetime_seconds=request.lifetime_seconds,
        max_lifetime_seconds=MAX_LIFETIME_SECONDS,
    )
    return {
        "customer_id": customer_id,
        "email": grant.subject,
        "url": f"{base_url}{grant.relative_url}",
        "path": grant.relative_url,
        "issued_at": _iso(grant.issued_at),
        "expires_at": _iso(grant.expires_at),
    }


def email_link(
    customer_id: str, email: str | None, *, links_valid_after: int | None = None
) -> str | None:
    """A link to the customer's portal for the contact ``email``, issued now with the default
    lifetime, for an e-mail; None when the portal is not configured here (no public URL of the
    API, or no link secret), or the address or customer is not one a link is issued for.

    ``links_valid_after``: the customer's revocation moment when the caller has just read the
    customer's partition (the customer then exists); otherwise both are read here."""
    from pydantic import ValidationError

    from shared.config import settings

    base = settings().public_api_url
    if not base or not email:
        return None
    try:
        request = LinkRequest(email=email)
        if links_valid_after is None:
            return str(issue_link(customer_id, request, base)["url"])
        return str(_issue(customer_id, request, base, links_valid_after)["url"])
    except (ValidationError, errors.DomainError):
        return None


def revoke_links(customer_id: str) -> dict[str, Any]:
    """Every link of the customer issued until now stops opening the portal."""
    from shared.store import customers, portal_access

    if len(customer_id) > MAX_ID_LENGTH or customers.get(customer_id) is None:
        raise errors.NotFound(f"customer {customer_id}")
    # Links carry whole seconds: this second's links are revoked too.
    moment = portal_access.revoke_links(customer_id, int(clock.now().timestamp()) + 1)
    return {"customer_id": customer_id, "links_valid_after": _iso(moment)}


def admit(customer_id: str, token: str | None) -> tuple[Principal, signed_links.Grant]:
    """The caller a valid link makes: a principal acting for that one customer (as a partner
    bound to it would, so every use case scopes it), and the grant. Unauthenticated without a
    token, Forbidden for a token that does not open this customer's pages."""
    from shared.store import portal_access

    if not token:  # no credential at all (a bad one is 403)
        raise errors.Unauthenticated(
            "link-required",
            "Open the portal with your link",
            "open the portal with the link you were sent",
        )
    if len(customer_id) > MAX_ID_LENGTH:
        raise _denied("this link is not valid for this page")
    now = int(clock.now().timestamp())
    try:
        grant = signed_links.verify_grant(
            path(customer_id),
            token,
            secrets=_secrets(),
            now=now,
            max_lifetime_seconds=MAX_LIFETIME_SECONDS,
        )
    except signed_links.ExpiredLinkError:
        raise _denied("this link has expired; ask us for a new one", "link-expired") from None
    except signed_links.InvalidLinkError:
        raise _denied("this link is not valid for this page") from None
    if grant.issued_at < portal_access.links_valid_after(customer_id):
        raise _denied("this link was withdrawn; ask us for a new one", "link-revoked")
    principal = Principal(
        principal_id=f"portal:{customer_id}",
        role=Role.PARTNER,
        customer_ids=frozenset({customer_id}),
    )
    return principal, grant


def _denied(detail: str, kind: str = "invalid-link") -> errors.DomainError:
    return errors.Forbidden(detail, kind=kind, title="This link does not open the portal")


def _secrets() -> tuple[str, ...]:
    from shared.adapters import secrets

    try:
        return secrets.dashboard_link_secrets()
    except secrets.SecretsNotConfiguredError:
        raise errors.Unavailable(
            "links-not-configured",
            "Signed links are not configured",
            "this deployment has no link secret",
        ) from None


def _iso(seconds: int) -> str:
    return datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
