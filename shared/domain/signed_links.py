"""Signed short-lived links: a bearer token that opens one path until it expires.

A token is ``<expires>.<signature>``: ``expires`` in Unix seconds, ``signature`` the
URL-safe base64 (unpadded) HMAC-SHA256, under a secret of the deployment's, of the path and the
expiry (``"<path>\\n<expires>"``). It grants exactly that path (a token minted for
``/dashboard`` opens nothing else) until ``expires``. Verification compares in constant time,
accepts any of several secrets (to rotate: add the new secret, wait out one lifetime, drop the
old one) and refuses an expiry further ahead than a link may live, so a token can only have
been minted by this code, with its lifetime.

A *grant* (``sign_grant`` / ``verify_grant``) is a longer-lived link that also names whom it was
issued to and when: ``<issued>.<expires>.<subject>.<signature>``, ``subject`` URL-safe base64
(unpadded) of its UTF-8 text, the signature over ``"<path>\n<expires>\n<issued>\n<subject>"``.
Its caller chooses the longest life it may have (the portal's links: 30 days), and can revoke
every grant issued before a moment by comparing ``issued_at``.

Pure: no clock and no AWS; callers pass the time and the secrets.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Callable, Sequence
from dataclasses import dataclass

LIFETIME_SECONDS = 15 * 60
CLOCK_SKEW_SECONDS = 60  # Lambdas' clocks differ a little; a link is still never longer-lived
MAX_TOKEN_LENGTH = 128
MAX_GRANT_TOKEN_LENGTH = 512


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


@dataclass(frozen=True)
class Grant:
    """A verified (or freshly signed) grant: ``path`` for ``subject``, from ``issued_at`` until
    ``expires_at`` (Unix seconds)."""

    path: str
    subject: str
    issued_at: int
    expires_at: int
    token: str

    @property
    def relative_url(self) -> str:
        return f"{self.path}?token={self.token}"


def _signature(secret: str, path: str, expires_at: int, *claims: object) -> str:
    message = "\n".join(str(part) for part in (path, expires_at, *claims))
    digest = hmac.new(secret.encode(), message.encode(), hashlib.sha256).digest()
    return _b64(digest)


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    if not text.isascii() or "=" in text:
        raise InvalidLinkError("malformed token")
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except ValueError:
        raise InvalidLinkError("malformed token") from None


def _check_lifetime(lifetime_seconds: int, max_lifetime_seconds: int) -> None:
    if not 0 < lifetime_seconds <= max_lifetime_seconds:
        raise ValueError(f"a link lives 1 to {max_lifetime_seconds} seconds")


def _seconds(text: str) -> int:
    if not text.isascii() or not text.isdigit() or len(text) > 12:
        raise InvalidLinkError("malformed token")
    return int(text)


def _check(
    signature: str,
    expected: Callable[[str], str],
    *,
    secrets: Sequence[str],
    expires_at: int,
    now: int,
    max_lifetime_seconds: int,
) -> None:
    if not signature.isascii():  # compare_digest refuses other text (a TypeError, not a 403)
        raise InvalidLinkError("malformed token")
    if not any(hmac.compare_digest(expected(secret), signature) for secret in secrets if secret):
        raise InvalidLinkError("the token was not signed for this path by this deployment")
    if expires_at > now + max_lifetime_seconds + CLOCK_SKEW_SECONDS:
        raise InvalidLinkError("the token claims a longer life than a link may have")
    if now >= expires_at:
        raise ExpiredLinkError("the link has expired")


def sign(
    path: str, *, secret: str, now: int, lifetime_seconds: int = LIFETIME_SECONDS
) -> SignedLink:
    """A link to ``path`` valid for ``lifetime_seconds`` from ``now`` (Unix seconds)."""
    if not secret:
        raise ValueError("a link needs a secret to be signed with")
    _check_lifetime(lifetime_seconds, LIFETIME_SECONDS)
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
    _check(
        signature,
        lambda secret: _signature(secret, path, expires_at),
        secrets=secrets,
        expires_at=expires_at,
        now=now,
        max_lifetime_seconds=LIFETIME_SECONDS,
    )
    return expires_at


def sign_grant(
    path: str,
    subject: str,
    *,
    secret: str,
    now: int,
    lifetime_seconds: int,
    max_lifetime_seconds: int,
) -> Grant:
    """A grant of ``path`` to ``subject`` valid for ``lifetime_seconds`` (at most
    ``max_lifetime_seconds``) from ``now``."""
    if not secret:
        raise ValueError("a link needs a secret to be signed with")
    _check_lifetime(lifetime_seconds, max_lifetime_seconds)
    expires_at = now + lifetime_seconds
    signature = _signature(secret, path, expires_at, now, subject)
    token = f"{now}.{expires_at}.{_b64(subject.encode())}.{signature}"
    if len(token) > MAX_GRANT_TOKEN_LENGTH:
        raise ValueError("the subject is too long for a link")
    return Grant(path=path, subject=subject, issued_at=now, expires_at=expires_at, token=token)


def verify_grant(
    path: str, token: str, *, secrets: Sequence[str], now: int, max_lifetime_seconds: int
) -> Grant:
    """The grant the token holds when it opens ``path`` at ``now``; raises ``InvalidLinkError``
    (or ``ExpiredLinkError``) otherwise."""
    if not token or len(token) > MAX_GRANT_TOKEN_LENGTH:
        raise InvalidLinkError("malformed token")
    parts = token.split(".")
    if len(parts) != 4 or not parts[3]:
        raise InvalidLinkError("malformed token")
    issued_at, expires_at = _seconds(parts[0]), _seconds(parts[1])
    try:
        subject = _unb64(parts[2]).decode()
    except UnicodeDecodeError:
        raise InvalidLinkError("malformed token") from None
    _check(
        parts[3],
        lambda secret: _signature(secret, path, expires_at, issued_at, subject),
        secrets=secrets,
        expires_at=expires_at,
        now=now,
        max_lifetime_seconds=max_lifetime_seconds,
    )
    if issued_at > now + CLOCK_SKEW_SECONDS or issued_at >= expires_at:
        raise InvalidLinkError("the token was issued in the future")
    return Grant(
        path=path, subject=subject, issued_at=issued_at, expires_at=expires_at, token=token
    )
