"""Signed short-lived links: a bearer token that opens one path until it expires.

A token is ``<expires>.<signature>``: ``expires`` in Unix seconds, ``signature`` the
URL-safe base64 (unpadded) HMAC-SHA256, under a secret of the deployment's, of the path and the
expiry (``"<path>\\n<expires>"``). It grants exactly that path (a token minted for
``/dashboard`` opens nothing else) until ``expires``. Verification compares in constant time,
accepts any of several secrets (to rotate: add the new secret, wait out one lifetime, drop the
old one) and refuses an expiry further ahead than a link may live, so a token can only have
been minted by this code, with its lifetime.

Pure: no clock and no AWS; callers pass the time and the secrets.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Sequence
from dataclasses import dataclass

LIFETIME_SECONDS = 15 * 60
CLOCK_SKEW_SECONDS = 60  # Lambdas' clocks differ a little; a link is still never longer-lived
MAX_TOKEN_LENGTH = 128


class InvalidLinkError(ValueError):
    """The token is malformed, signed for another path, or signed with no secret of ours."""


class ExpiredLinkError(InvalidLinkError):
    """The token was ours, and its time is up."""


@dataclass(frozen=True)
class SignedLink:
    path: str
    token: str
    expires_at: int  # Unix seconds

    @property
    def relative_url(self) -> str:
        return f"{self.path}?token={self.token}"


def _signature(secret: str, path: str, expires_at: int) -> str:
    digest = hmac.new(secret.encode(), f"{path}\n{expires_at}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def sign(
    path: str, *, secret: str, now: int, lifetime_seconds: int = LIFETIME_SECONDS
) -> SignedLink:
    """A link to ``path`` valid for ``lifetime_seconds`` from ``now`` (Unix seconds)."""
    if not secret:
        raise ValueError("a link needs a secret to be signed with")
    if not 0 < lifetime_seconds <= LIFETIME_SECONDS:
        raise ValueError(f"a link lives 1 to {LIFETIME_SECONDS} seconds")
    expires_at = now + lifetime_seconds
    token = f"{expires_at}.{_signature(secret, path, expires_at)}"
    return SignedLink(path=path, token=token, expires_at=expires_at)


def verify(path: str, token: str, *, secrets: Sequence[str], now: int) -> int:
    """The token's expiry when it opens ``path`` at ``now``; raises ``InvalidLinkError`` (or
    ``ExpiredLinkError``) otherwise."""
    if not token or len(token) > MAX_TOKEN_LENGTH:
        raise InvalidLinkError("malformed token")
    expires_text, dot, signature = token.partition(".")
    if not dot or not expires_text.isascii() or not expires_text.isdigit() or not signature:
        raise InvalidLinkError("malformed token")
    expires_at = int(expires_text)
    if not any(
        hmac.compare_digest(_signature(secret, path, expires_at), signature)
        for secret in secrets
        if secret
    ):
        raise InvalidLinkError("the token was not signed for this path by this deployment")
    if expires_at > now + LIFETIME_SECONDS + CLOCK_SKEW_SECONDS:
        raise InvalidLinkError("the token claims a longer life than a link may have")
    if now >= expires_at:
        raise ExpiredLinkError("the link has expired")
    return expires_at
