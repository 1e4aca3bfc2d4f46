"""`python -m infra.local`: run the local stack until Ctrl-C (or SIGTERM), then stop it cleanly.

Options:
  --host HOST            where the API listens (default 127.0.0.1)
  --port PORT            API port (default 8000; 0 picks a free one)
  --moto-port PORT       moto's port (default 5000; 0 picks a free one)
  --seed-keys P A        use these demo keys (partner, admin) instead of fresh ones
  --ready-file PATH      once up, write the URLs and keys there as JSON (removed on exit);
                         `make run` writes build/local-stack.json, which `make collect` reads
  --state-dir PATH       save moto's world there on stop, load it from there on start
                         (default build/local-state)
  --fresh                start empty even if a state was saved (it is saved over on stop)
  --stream-retention S   keep stream records the pump has read for S seconds (default 900)

Once everything is up, a line ``READY <api url>`` is printed to stdout.
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
import threading
import warnings
from datetime import timedelta
from pathlib import Path
from types import FrameType

from infra.local.server import (
    HOST,
    STATE_DIR,
    STREAM_RETENTION,
    LocalStack,
    StartupError,
    banner,
)

log = logging.getLogger("infra.local")


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m infra.local",
        description="moto + infra/resources.yaml + the Chalice app + the event pump, on loopback.",
    )
    parser.add_argument("--host", default=HOST, help="API host (default %(default)s)")
    parser.add_argument("--port", type=int, default=8000, help="API port (default %(default)s)")
    parser.add_argument(
        "--moto-port", type=int, default=5000, help="moto port (default %(default)s)"
    )
    parser.add_argument(
        "--seed-keys", nargs=2, metavar=("PARTNER_KEY", "ADMIN_KEY"), help="fixed demo keys (tests)"
    )
    parser.add_argument(
        "--ready-file", type=Path, help="write the URLs and keys here as JSON once up"
    )
    parser.add_argument(
        "--state-dir",
        type=Path,
        default=STATE_DIR,
        help="where the state is saved on stop and loaded on start (default %(default)s)",
    )
    parser.add_argument(
        "--fresh", action="store_true", help="start empty even if a state was saved"
    )
    parser.add_argument(
        "--stream-retention",
        type=float,
        default=STREAM_RETENTION.total_seconds(),
        metavar="SECONDS",
        help="keep stream records the pump has read this long (default %(default)g)",
    )
    return parser.parse_args(argv)


def _configure_logging() -> None:
    """Our lines at INFO; libraries at WARNING (moto's server logs every call the pump makes)."""
    logging.basicConfig(
        stream=sys.stderr, level=logging.WARNING, format="%(asctime)s %(name)s %(message)s"
    )
    log.setLevel(logging.INFO)
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # else INFO: a line per moto call
    # Known and expected: moto's CloudFormation skips alarms, queue and bucket policies.
    logging.getLogger("moto").setLevel(logging.ERROR)
    warnings.filterwarnings("ignore", message="Tried to parse AWS::", category=UserWarning)
    # Metrics.log_metrics warns on every invocation that emits none (most of them).
    warnings.filterwarnings(
        "ignore", message="No application metrics to publish", category=UserWarning
    )


def _write_atomically(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".partial")
    partial.write_text(text)
    partial.replace(path)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    _configure_logging()
    stopping = threading.Event()

    def request_stop(signum: int, frame: FrameType | None) -> None:
        if stopping.is_set():  # a second Ctrl-C while stopping: give up waiting
            os._exit(1)
        stopping.set()

    signal.signal(signal.SIGINT, request_stop)
    signal.signal(signal.SIGTERM, request_stop)

    local = LocalStack(
        host=args.host,
        port=args.port,
        moto_port=args.moto_port,
        seed_keys=tuple(args.seed_keys) if args.seed_keys else None,
        state_dir=args.state_dir,
        fresh=args.fresh,
        stream_retention=timedelta(seconds=args.stream_retention),
    )
    code = 0
    try:
        ready = local.start()
        if not stopping.is_set():
            print(banner(ready), flush=True)
            if args.ready_file:
                _write_atomically(args.ready_file, ready.to_json())
            print(f"READY {ready.api_url}", flush=True)
            while not stopping.wait(0.5):
                pass
        log.info("stopping")
    except StartupError as error:
        log.error("the local stack cannot start: %s", error)
        code = 1
    except Exception:
        log.exception("the local stack failed to start")
        code = 1
    finally:
        if args.ready_file:  # first: whatever happens next, the stack no longer serves
            args.ready_file.unlink(missing_ok=True)
        code = _stop(local) or code
    log.info("stopped")
    return code


def _stop(local: LocalStack) -> int:
    try:
        local.stop()
    except Exception:
        log.exception("the local stack failed to stop cleanly")
        return 1
    return 0


def exit_now(code: int) -> None:
    """Exit without the interpreter's final sweep of every object.

    Once stopped, the process holds moto's whole world (every item, stream record and message
    of the session): collecting it object by object at exit takes seconds after a busy run, and
    nothing in it needs finalizing. Output is flushed first.
    """
    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


if __name__ == "__main__":
    exit_now(main())
