"""Stripe's API on 127.0.0.1 for the local stack: only the HTTP exchange is stubbed.

The stack runs in its own process, so the functional tests' ``RecordedStripe`` (given to the
``stripe`` library as its HTTP client) cannot reach it; the same recorder answers here behind a
small HTTP server instead, and the stack's ``STRIPE_API_BASE`` points the library at it. The
library builds its requests and reads the recorded answers for real, as it would Stripe's.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from tests.functional.stripe_http import RecordedStripe


class _Handler(BaseHTTPRequestHandler):
    recorded: RecordedStripe

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length).decode()
        url = f"http://{self.headers.get('Host')}{self.path}"
        answer, status, headers = self.recorded.request("post", url, dict(self.headers), body)
        raw = answer.encode()
        self.send_response(status)
        for name, value in {**headers, "Content-Type": "application/json"}.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(raw)))
        self.end_headers()
        self.wfile.write(raw)

    def log_message(self, format: str, *args: Any) -> None:
        return None


@dataclass(frozen=True)
class StripeStub:
    base: str  # what STRIPE_API_BASE names: http://127.0.0.1:<port>
    recorded: RecordedStripe  # every request the library sent, and the sessions it made


@contextmanager
def stripe_stub() -> Iterator[StripeStub]:
    """The stub, serving on a free port until the block ends."""
    recorded = RecordedStripe()
    handler = type("RecordedStripeHandler", (_Handler,), {"recorded": recorded})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, name="stripe-stub", daemon=True)
    thread.start()
    try:
        yield StripeStub(f"http://127.0.0.1:{server.server_address[1]}", recorded)
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)
