"""Host resolution: numeric spellings come back as the addresses they mean; failures are typed."""

from __future__ import annotations

import ipaddress
import socket
from typing import Any

import pytest

from shared.adapters import host_resolution
from shared.adapters.host_resolution import HostNotFoundError, ResolverUnavailableError

LOOPBACK = ipaddress.ip_address("127.0.0.1")


@pytest.mark.parametrize(
    "host", ["2130706433", "0x7f000001", "0x7f.1", "017700000001", "127.1", "127.0.0.1"]
)
def test_every_spelling_of_loopback_resolves_to_loopback(host: str) -> None:
    # When the system resolver reads the host (no query leaves the machine for numbers)
    addresses = host_resolution.resolve(host, 443)

    # Then it is 127.0.0.1, whatever the spelling
    assert addresses == (LOOPBACK,)


def test_addresses_come_back_once_each_in_order(monkeypatch: pytest.MonkeyPatch) -> None:
    # Given a resolver answering one address per socket type and a scoped IPv6 address
    def answers(host: str, port: int, **_: Any) -> list[Any]:
        return [
            (socket.AF_INET, socket.SOCK_STREAM, 6, "", ("93.184.215.14", port)),
            (socket.AF_INET, socket.SOCK_STREAM, 6, "", ("93.184.215.14", port)),
            (socket.AF_INET6, socket.SOCK_STREAM, 6, "", ("fe80::1%eth0", port, 0, 2)),
        ]

    monkeypatch.setattr(host_resolution, "getaddrinfo", answers)

    # Then each address appears once, the zone apart
    assert host_resolution.resolve("hooks.acme.example", 443) == (
        ipaddress.ip_address("93.184.215.14"),
        ipaddress.ip_address("fe80::1"),
    )


@pytest.mark.parametrize(
    ("code", "error"),
    [
        (socket.EAI_NONAME, HostNotFoundError),
        (socket.EAI_AGAIN, ResolverUnavailableError),
        (socket.EAI_FAIL, ResolverUnavailableError),
    ],
)
def test_a_missing_host_and_a_resolver_down_are_told_apart(
    monkeypatch: pytest.MonkeyPatch, code: int, error: type[Exception]
) -> None:
    def failing(*_: Any, **__: Any) -> list[Any]:
        raise socket.gaierror(code, "resolver says no")

    monkeypatch.setattr(host_resolution, "getaddrinfo", failing)
    with pytest.raises(error):
        host_resolution.resolve("hooks.acme.example", 443)


def test_a_name_idna_cannot_encode_is_not_found() -> None:
    with pytest.raises(HostNotFoundError):
        host_resolution.resolve("a" * 64 + ".example", 443)
