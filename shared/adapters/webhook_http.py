"""POSTing a webhook: stdlib urllib, a short timeout, no redirects, an outcome instead of raising.

Redirects are not followed: a 3xx is a failed delivery (the signed body must reach the URL the
partner registered, not wherever that URL points next). Proxies from the environment apply.
"""

from __future__ import annotations

import urllib.error
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

TIMEOUT_SECONDS = 5.0
MAX_ERROR_LENGTH = 300


@dataclass(frozen=True)
class HttpOutcome:
    status_code: int | None  # None when no HTTP answer came (refused, timed out, TLS error)
    error: str | None

    @property
    def ok(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None  # urllib then raises HTTPError with the 3xx status


_opener = urllib.request.build_opener(_NoRedirects)


def post(
    url: str, body: bytes, headers: Mapping[str, str], *, timeout: float = TIMEOUT_SECONDS
) -> HttpOutcome:
    if not url.startswith(("https://", "http://")):
        return HttpOutcome(status_code=None, error="only http(s) URLs are posted to")
    # The scheme is checked above (and at registration): no file: or custom scheme reaches here.
    request = urllib.request.Request(url, data=body, headers=dict(headers), method="POST")  # noqa: S310
    try:
        with _opener.open(request, timeout=timeout) as response:
            return HttpOutcome(status_code=response.status, error=None)
    except urllib.error.HTTPError as error:
        error.close()
        return HttpOutcome(status_code=error.code, error=f"HTTP {error.code}")
    except urllib.error.URLError as error:
        return HttpOutcome(status_code=None, error=_describe(error.reason))
    except (TimeoutError, OSError, ValueError) as error:
        return HttpOutcome(status_code=None, error=_describe(error))


def _describe(reason: object) -> str:
    text = reason if isinstance(reason, str) else f"{type(reason).__name__}: {reason}"
    return text[:MAX_ERROR_LENGTH]
