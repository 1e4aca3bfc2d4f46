"""POSTing a webhook to a vetted address: a short timeout, no redirects, an outcome, not a raise.

The connection goes to the address the destination was vetted with, never to a fresh lookup of
the host; TLS still sends the host name (SNI) and checks the certificate against it, and the
Host header is the URL's. Redirects are not followed: a 3xx is a failed delivery (the signed body
must reach the URL the partner registered, not wherever that URL points next). No proxy applies.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import urllib3

from shared.adapters.webhook_destination import Destination

TIMEOUT_SECONDS = 5.0
MAX_ERROR_LENGTH = 300


@dataclass(frozen=True)
class HttpOutcome:
    status_code: int | None  # None when no HTTP answer came (refused, timed out, TLS error)
    error: str | None

    @property
    def ok(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


def post(
    destination: Destination,
    body: bytes,
    headers: Mapping[str, str],
    *,
    timeout: float = TIMEOUT_SECONDS,
) -> HttpOutcome:
    url = destination.url
    try:
        with _pool(destination, timeout) as pool:
            response = pool.urlopen(
                "POST",
                url.target,
                body=body,
                headers={**headers, "Host": url.authority},
                redirect=False,
                retries=False,
                assert_same_host=False,
                preload_content=False,  # the receiver's answer body is not read
            )
            response.close()
    except (urllib3.exceptions.HTTPError, OSError, ValueError) as error:
        return HttpOutcome(status_code=None, error=_describe(error))
    status = response.status
    if 200 <= status < 300:
        return HttpOutcome(status_code=status, error=None)
    if 300 <= status < 400:
        return HttpOutcome(status_code=status, error=f"HTTP {status}: redirects are not followed")
    return HttpOutcome(status_code=status, error=f"HTTP {status}")


def _pool(destination: Destination, timeout: float) -> urllib3.HTTPConnectionPool:
    url = destination.url
    limits = urllib3.Timeout(connect=timeout, read=timeout)
    if url.scheme == "https":
        return urllib3.HTTPSConnectionPool(
            str(destination.address),
            url.port,
            timeout=limits,
            maxsize=1,
            retries=False,
            cert_reqs="CERT_REQUIRED",
            server_hostname=url.host,
            assert_hostname=url.host,
        )
    return urllib3.HTTPConnectionPool(
        str(destination.address), url.port, timeout=limits, maxsize=1, retries=False
    )


def _describe(reason: object) -> str:
    text = f"{type(reason).__name__}: {reason}"
    return text[:MAX_ERROR_LENGTH]
