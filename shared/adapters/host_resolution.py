"""What a host name resolves to, through the system resolver (``socket.getaddrinfo``).

Numeric forms are resolved as the C library reads them, so ``2130706433``, ``0x7f.1``,
``017700000001`` and ``127.1`` all come back as 127.0.0.1: the caller judges addresses, never the
spelling of a host.
"""

from __future__ import annotations

import ipaddress
import socket
from socket import getaddrinfo

from shared.domain.webhooks import IPAddress

# Answers that mean "no such host" rather than "ask again later".
_NOT_FOUND = frozenset(
    code
    for code in (
        socket.EAI_NONAME,
        getattr(socket, "EAI_NODATA", None),
        socket.EAI_SERVICE,
        socket.EAI_FAMILY,
    )
    if code is not None
)


class HostNotFoundError(LookupError):
    """The host does not exist (or has no address)."""


class ResolverUnavailableError(OSError):
    """The resolver could not answer now; the same question may succeed later."""


def resolve(host: str, port: int) -> tuple[IPAddress, ...]:
    """Every address ``host`` resolves to for a TCP connection, without duplicates, in order."""
    try:
        answers = getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as error:
        if error.errno in _NOT_FOUND:
            raise HostNotFoundError(f"the host {host} does not resolve") from None
        raise ResolverUnavailableError(f"the host {host} could not be resolved now") from None
    except (UnicodeError, ValueError):
        raise HostNotFoundError(f"the host {host} is not a valid host name") from None
    addresses: dict[IPAddress, None] = {}
    for _family, _type, _proto, _name, sockaddr in answers:
        text = str(sockaddr[0]).partition("%")[0]  # a scoped IPv6 address keeps its zone apart
        addresses[ipaddress.ip_address(text)] = None
    return tuple(addresses)
