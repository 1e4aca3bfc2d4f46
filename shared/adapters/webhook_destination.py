"""Where a webhook may be POSTed: the URL's host resolved, every address vetted, one pinned.

Registration vets the URL so a partner learns at once that it is refused; delivery vets it again
and connects to the very address it vetted, so a host that resolves to a public address when
registered and to an internal one later (DNS rebinding) is refused, not reached.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from shared.adapters import host_resolution
from shared.config import settings
from shared.domain import webhooks as domain
from shared.domain.webhooks import IPAddress, WebhookUrl


@dataclass(frozen=True)
class Destination:
    """A vetted URL and the address the connection goes to (TLS still checks ``url.host``)."""

    url: WebhookUrl
    address: IPAddress


def loopback_allowed() -> bool:
    """Only where the local stack turns it on, and never in a Lambda.

    In a Lambda, 127.0.0.1 is the runtime's own API, never a partner.
    """
    in_lambda = "AWS_LAMBDA_FUNCTION_NAME" in os.environ
    return settings().webhook_allow_loopback and not in_lambda


def vet(url: str) -> Destination:
    """The destination of ``url``, or ``InvalidWebhookUrlError`` saying why it is refused.

    Raises ``host_resolution.ResolverUnavailableError`` when the resolver cannot answer now.
    """
    parsed = domain.parse_url(url)
    try:
        addresses = host_resolution.resolve(parsed.host, parsed.port)
    except host_resolution.HostNotFoundError as error:
        raise domain.InvalidWebhookUrlError(str(error)) from None
    domain.check_destination(parsed, addresses, allow_loopback=loopback_allowed())
    return Destination(url=parsed, address=addresses[0])
