"""A resolver for tests: named hosts answer what the test says, numeric hosts as the C library reads
them, ``localhost`` from /etc/hosts, any other name "not found" (no query leaves the machine).
"""

from __future__ import annotations

import re
import socket
from dataclasses import dataclass, field
from typing import Any

import pytest

from shared.adapters import host_resolution

PUBLIC_ADDRESS = "93.184.215.14"  # a global unicast address; nothing here connects to it
_NUMERIC = re.compile(r"[0-9a-fx.:]+", re.IGNORECASE)


@dataclass
class FakeResolver:
    hosts: dict[str, list[str]] = field(default_factory=dict)
    lookups: list[str] = field(default_factory=list)
    unavailable: bool = False

    def answer(self, host: str, *addresses: str) -> None:
        self.hosts[host] = list(addresses)

    def getaddrinfo(self, host: str, port: Any, *args: Any, **kwargs: Any) -> list[Any]:
        self.lookups.append(host)
        if self.unavailable:
            raise socket.gaierror(socket.EAI_AGAIN, "Temporary failure in name resolution")
        if host in self.hosts:
            return [_answer(address, int(port)) for address in self.hosts[host]]
        if host == "localhost" or _NUMERIC.fullmatch(host):
            return socket.getaddrinfo(host, port, *args, **kwargs)
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")


def _answer(address: str, port: int) -> tuple[Any, ...]:
    if ":" in address:
        return (socket.AF_INET6, socket.SOCK_STREAM, 6, "", (address, port, 0, 0))
    return (socket.AF_INET, socket.SOCK_STREAM, 6, "", (address, port))


def install(monkeypatch: pytest.MonkeyPatch, *public_hosts: str) -> FakeResolver:
    """Resolve webhook hosts with a fake for the test; ``public_hosts`` answer PUBLIC_ADDRESS."""
    fake = FakeResolver()
    for host in public_hosts:
        fake.answer(host, PUBLIC_ADDRESS)
    monkeypatch.setattr(host_resolution, "getaddrinfo", fake.getaddrinfo)
    return fake
