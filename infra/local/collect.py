"""`make collect`: start a collection run on the running local stack, as the schedule does on AWS.

moto's Scheduler never fires, so the daily run (``run_collections``) is started through the API
instead: ``POST /collection-runs`` with the stack's admin key, read from the file ``make run``
writes once the stack is up (``--ready-file``, build/local-stack.json). The run fans customers
out to the collection-reminders queue, and the stack's event pump hands them to
``remind_customers``, whose e-mails land in moto's SES. A dry run records and sends nothing: it
answers with what would be sent.

    python -m infra.local.collect [--as-of YYYY-MM-DD] [--dry-run] [--ready-file PATH]
                                  [--api-url URL --admin-key KEY]
"""

from __future__ import annotations

import argparse
import json
import sys
import urllib.error
import urllib.request
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any, TextIO

ROOT = Path(__file__).resolve().parents[2]
READY_FILE = ROOT / "build" / "local-stack.json"
TIMEOUT_SECONDS = 120.0  # a dry run plans every customer in the API's process

NO_STACK = 2  # exit code: no running stack found


class NoStackError(Exception):
    """Where the local stack listens, or its admin key, is unknown."""


@dataclass(frozen=True)
class Target:
    api_url: str
    admin_key: str


@dataclass(frozen=True)
class Answer:
    status: int
    body: Any


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m infra.local.collect",
        description="Start a collection run on the running local stack (POST /collection-runs).",
    )
    parser.add_argument(
        "--as-of", type=date.fromisoformat, help="the day to collect for (default: the API's today)"
    )
    parser.add_argument(
        "--dry-run", action="store_true", help="record and send nothing; show what would be sent"
    )
    parser.add_argument(
        "--ready-file",
        type=Path,
        default=READY_FILE,
        help="what the stack wrote on start (default: %(default)s, as `make run` writes it)",
    )
    parser.add_argument("--api-url", help="the local API (instead of the ready file's)")
    parser.add_argument("--admin-key", help="an admin's API key (instead of the ready file's)")
    return parser.parse_args(argv)


def target(ready_file: Path, api_url: str | None = None, admin_key: str | None = None) -> Target:
    """The API and admin key to use: given ones first, else the running stack's ready file."""
    if api_url and admin_key:
        return _checked(Target(api_url.rstrip("/"), admin_key))
    try:
        ready = json.loads(ready_file.read_text())
    except FileNotFoundError:
        raise NoStackError(
            f"no local stack found: {ready_file} is missing. Start one with `make run` (it writes"
            " that file once up), or pass --api-url and --admin-key."
        ) from None
    except ValueError as error:
        raise NoStackError(f"{ready_file} is not the stack's JSON ({error})") from None
    found = Target(
        (api_url or str(ready["api_url"])).rstrip("/"), admin_key or str(ready["admin_key"])
    )
    return _checked(found)


def _checked(where: Target) -> Target:
    if not where.api_url.startswith(("http://", "https://")):
        raise NoStackError(f"the API URL must be http(s): {where.api_url!r}")
    return where


def request_body(as_of: date | None, *, dry_run: bool) -> dict[str, Any]:
    body: dict[str, Any] = {"dry_run": dry_run}
    if as_of is not None:
        body["as_of"] = as_of.isoformat()
    return body


def start_run(
    where: Target,
    as_of: date | None = None,
    *,
    dry_run: bool = False,
    timeout: float = TIMEOUT_SECONDS,
) -> Answer:
    """POST /collection-runs; the answer whatever its status (a new Idempotency-Key each time)."""
    request = urllib.request.Request(  # noqa: S310 (target() admits http(s) URLs only)
        f"{where.api_url}/collection-runs",
        data=json.dumps(request_body(as_of, dry_run=dry_run)).encode(),
        method="POST",
        headers={
            "Content-Type": "application/json",
            "Accept": "application/json",
            "X-Api-Key": where.admin_key,
            "Idempotency-Key": str(uuid.uuid4()),
        },
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
            return Answer(response.status, _decoded(response.read()))
    except urllib.error.HTTPError as error:
        return Answer(error.code, _decoded(error.read()))
    except urllib.error.URLError as error:
        raise NoStackError(
            f"no local stack answers at {where.api_url} ({error.reason}); is `make run` running?"
        ) from None


def _decoded(raw: bytes) -> Any:
    try:
        return json.loads(raw)
    except ValueError:
        return raw.decode(errors="replace")


def report(answer: Answer, *, dry_run: bool, out: TextIO) -> None:
    """The answer as the API gave it, with a line on what happens next."""
    if answer.status >= 400:
        headline = f"The collection run was refused ({answer.status}):"
    elif dry_run:
        headline = f"Dry run ({answer.status}): nothing was recorded or sent. What would be sent:"
    else:
        headline = f"Collection run started ({answer.status}):"
    print(headline, file=out)
    print(
        json.dumps(answer.body, indent=2) if not isinstance(answer.body, str) else answer.body,
        file=out,
    )
    if answer.status < 400 and not dry_run:
        print(
            "The event pump now hands each customer to remind_customers; the reminders land in"
            " moto's SES, and GET /customers/{id}/collections lists them.",
            file=out,
        )


def main(argv: Sequence[str] | None = None, out: TextIO = sys.stdout) -> int:
    args = parse_args(argv)
    try:
        where = target(args.ready_file, args.api_url, args.admin_key)
        answer = start_run(where, args.as_of, dry_run=args.dry_run)
    except NoStackError as error:
        print(error, file=sys.stderr)
        return NO_STACK
    report(answer, dry_run=args.dry_run, out=out)
    return 0 if answer.status < 400 else 1


if __name__ == "__main__":
    sys.exit(main())
