"""The local stack as a developer runs it: `python -m infra.local` in its own process, over HTTP."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3
import pytest

from infra.local.server import local_environment
from tests.e2e.stripe_stub import StripeStub, stripe_stub

ROOT = Path(__file__).resolve().parents[2]
PARTNER_KEY = "otc_e2e_partner_key_0123456789abcdef"
ADMIN_KEY = "otc_e2e_admin_key_0123456789abcdef"
# Generous: on a loaded machine (two cores shared by many processes) a start that takes 10 s
# alone can take minutes; a stack that is broken fails long before (it exits, or prints a
# traceback), and a hung one still fails at the deadline.
READY_TIMEOUT_SECONDS = 240.0
STOP_TIMEOUT_SECONDS = 60.0  # stopping saves moto's world to the state folder
REQUEST_TIMEOUT_SECONDS = 60.0
ATTEMPTS_WHILE_UNAVAILABLE = 5  # a 503 (moto slow on a loaded machine) is retried, as clients do


def free_ports(count: int) -> list[int]:
    """Ports the kernel says are free (all held at once, so they differ)."""
    sockets = [socket.socket(socket.AF_INET, socket.SOCK_STREAM) for _ in range(count)]
    try:
        for probe in sockets:
            probe.bind(("127.0.0.1", 0))
        return [probe.getsockname()[1] for probe in sockets]
    finally:
        for probe in sockets:
            probe.close()


@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)

    @property
    def content_type(self) -> str:
        return self.headers.get("content-type", "")


@dataclass
class LocalStack:
    """One `python -m infra.local` process; its output goes to files so it can never block."""

    workdir: Path
    api_port: int = 0
    moto_port: int = 0
    process: subprocess.Popen[bytes] | None = None
    ready: dict[str, Any] = field(default_factory=dict)
    options: tuple[str, ...] = ()  # more command-line options for `python -m infra.local`
    environment: dict[str, str] = field(default_factory=dict)  # more environment variables

    @property
    def state_dir(self) -> Path:
        """The stack's own state folder (never the repository's build/local-state)."""
        return self.workdir / "state"

    @property
    def ready_file(self) -> Path:
        return self.workdir / "ready.json"

    @property
    def stdout_file(self) -> Path:
        return self.workdir / "stdout.log"

    @property
    def stderr_file(self) -> Path:
        return self.workdir / "stderr.log"

    @property
    def api_url(self) -> str:
        return str(self.ready["api_url"])

    def start(self, *, fresh: bool = False) -> LocalStack:
        """Start on free ports, or again on the same ports after a stop; output is appended."""
        if not self.api_port:
            self.api_port, self.moto_port = free_ports(2)
        self.ready_file.unlink(missing_ok=True)  # a killed stack may have left its own
        command = [
            sys.executable, "-m", "infra.local",
            "--port", str(self.api_port),
            "--moto-port", str(self.moto_port),
            "--seed-keys", PARTNER_KEY, ADMIN_KEY,
            "--ready-file", str(self.ready_file),
            "--state-dir", str(self.state_dir),
            *(["--fresh"] if fresh else []),
            *self.options,
        ]  # fmt: skip
        env = {**os.environ, **self.environment, "PYTHONUNBUFFERED": "1"}
        with self.stdout_file.open("ab") as stdout, self.stderr_file.open("ab") as stderr:
            self.process = subprocess.Popen(
                command, cwd=ROOT, env=env, stdout=stdout, stderr=stderr
            )
        return self

    def wait_ready(self, timeout: float = READY_TIMEOUT_SECONDS) -> LocalStack:
        assert self.process is not None
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                pytest.fail(
                    f"the local stack exited with {self.process.returncode}:\n{self.logs()}"
                )
            if self.ready_file.exists():
                self.ready = json.loads(self.ready_file.read_text())
                return self
            time.sleep(0.1)
        self.kill()
        pytest.fail(f"the local stack was not ready within {timeout:.0f} s:\n{self.logs()}")

    def stop(self, sig: int = signal.SIGINT, timeout: float = STOP_TIMEOUT_SECONDS) -> int | None:
        """Send ``sig``; return the exit code, or None if it did not exit in time (then killed)."""
        assert self.process is not None
        if self.process.poll() is None:
            self.process.send_signal(sig)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.kill()
                return None
        return self.process.returncode

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(5)

    def logs(self) -> str:
        return (
            f"--- stdout\n{self.stdout_file.read_text(errors='replace')}"
            f"--- stderr\n{self.stderr_file.read_text(errors='replace')}"
        )

    def printed_lines(self) -> list[str]:
        return self.stdout_file.read_text().splitlines()

    # --- HTTP ----------------------------------------------------------------------------------

    def request(
        self,
        method: str,
        path: str,
        *,
        body: bytes | None = None,
        headers: dict[str, str] | None = None,
    ) -> Answer:
        """The answer; a 503 is sent again (same headers and body) after its Retry-After."""
        for _ in range(ATTEMPTS_WHILE_UNAVAILABLE - 1):
            answer = self._send(method, path, body, headers)
            if answer.status != 503:
                return answer
            time.sleep(float(answer.headers.get("retry-after", "1")))
        return self._send(method, path, body, headers)

    def _send(
        self, method: str, path: str, body: bytes | None, headers: dict[str, str] | None
    ) -> Answer:
        request = urllib.request.Request(
            self.api_url + path, data=body, method=method, headers=headers or {}
        )
        try:
            with urllib.request.urlopen(request, timeout=REQUEST_TIMEOUT_SECONDS) as response:
                return Answer(response.status, _lower(response.headers.items()), response.read())
        except urllib.error.HTTPError as error:
            return Answer(error.code, _lower(error.headers.items()), error.read())


def moto_client(stack: LocalStack, service: str) -> Any:
    """A client of the running stack's moto."""
    moto_url = str(stack.ready["moto_url"])
    environment = local_environment(moto_url)
    return boto3.client(
        service,  # type: ignore[call-overload]
        endpoint_url=moto_url,
        region_name=environment["AWS_REGION"],
        aws_access_key_id=environment["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=environment["AWS_SECRET_ACCESS_KEY"],
    )


def _lower(items: Any) -> dict[str, str]:
    return {name.lower(): value for name, value in items}


@pytest.fixture(scope="session")
def stripe_api() -> Iterator[StripeStub]:
    """Stripe's API stubbed at the HTTP exchange, on 127.0.0.1 (tests/e2e/stripe_stub.py)."""
    with stripe_stub() as stub:
        yield stub


@pytest.fixture(scope="session")
def local_stack(
    tmp_path_factory: pytest.TempPathFactory, stripe_api: StripeStub
) -> Iterator[LocalStack]:
    """The stack for the whole e2e session; at the end Ctrl-C must stop it cleanly. The
    ``stripe`` library in it talks to the stub of Stripe's API (``stripe_api``)."""
    stack = LocalStack(
        tmp_path_factory.mktemp("local-stack"),
        environment={"STRIPE_API_BASE": stripe_api.base},
    ).start()
    try:
        stack.wait_ready()
        yield stack
    finally:
        code = stack.stop(signal.SIGINT)
        logs = stack.logs()
        assert code == 0, (
            f"SIGINT: exit code {code} (None: still running after {STOP_TIMEOUT_SECONDS:.0f} s)"
            f"\n{logs}"
        )
        assert "Traceback" not in logs, logs
