"""The running local stack: moto's server, resources.yaml deployed into it, the API and the pump.

Everything runs in one process, on loopback only:

- ``ThreadedMotoServer`` plays AWS; ``AWS_ENDPOINT_URL`` points every boto3 client at it;
- infra/resources.yaml is deployed through moto's CloudFormation (``stack.deploy``);
- the Chalice app is served by Chalice's own local dev server (what ``chalice local`` runs);
- an event pump thread plays Lambda's event source mappings (table stream, SQS queues).

The app is imported only once the environment points at moto, so no client can reach AWS.
"""

from __future__ import annotations

import importlib
import json
import logging
import os
import shlex
import socket
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from types import ModuleType
from typing import Any
from unittest import mock

import boto3

from infra.local import persistence, stack
from infra.local.moto_firehose import partitioned_deliveries
from infra.local.moto_request_tokens import honoured_request_tokens
from infra.local.moto_streams import (
    bounded_shard_iterators,
    trim_read_records,
    trimmed_reads_refused,
)
from infra.local.moto_transactions import lean_transactions
from infra.local.moto_writes import announced_writes
from infra.local.seed import demo_order

ROOT = Path(__file__).resolve().parents[2]
HOST = "127.0.0.1"
CHALICE_STAGE = "dev"
PUMP_INTERVAL_SECONDS = 0.2
# An idle pump told of new work passes again at once, and otherwise every this many seconds.
PUMP_IDLE_INTERVAL_SECONDS = 1.0
PUMP_RETRY_DELAY_SECONDS = 2
STOP_TIMEOUT_SECONDS = 10.0
# Where `make run` keeps moto's world between runs (git-ignored, as all of build/).
STATE_DIR = ROOT / "build" / "local-state"
# Stream records the pump has read are dropped once this old (DynamoDB Streams keeps 24 hours).
STREAM_RETENTION = timedelta(minutes=15)
TRIM_INTERVAL_SECONDS = 10.0
# The app's clients give AWS 2 s to connect and 5 s to answer. moto answers DynamoDB one request
# at a time, in this process, on a laptop that may be busy: a slow answer here is the machine's
# load, not a fault to answer 503 for.
LOCAL_CONNECT_TIMEOUT_SECONDS = 10
LOCAL_READ_TIMEOUT_SECONDS = 60

log = logging.getLogger("infra.local")


class StartupError(Exception):
    """The stack cannot start for a reason the user can fix (a busy port)."""


def local_environment(moto_url: str) -> dict[str, str]:
    """What the process needs to talk to moto, and only to moto."""
    return {
        "AWS_ENDPOINT_URL": moto_url,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": stack.REGION,
        "AWS_REGION": stack.REGION,
        "AWS_ACCOUNT_ID_ENDPOINT_MODE": "disabled",  # DynamoDB Streams under botocore >= 1.44
        "WEBHOOK_ALLOW_LOOPBACK": "1",  # the demo's partner webhook may be a local receiver
    }


def point_at_moto(moto_url: str) -> None:
    """Set the AWS variables; drop those that could send a call elsewhere (profiles, URLs)."""
    for name in list(os.environ):
        if name.startswith("AWS_ENDPOINT_URL_") or name in {"AWS_PROFILE", "AWS_DEFAULT_PROFILE"}:
            del os.environ[name]
    os.environ.update(local_environment(moto_url))
    # No X-Ray daemon and no CloudWatch here; the user may still turn metrics on (they print EMF).
    os.environ["POWERTOOLS_TRACE_DISABLED"] = "1"
    os.environ.setdefault("POWERTOOLS_METRICS_DISABLED", "1")


@contextmanager
def one_dynamodb_request_at_a_time(lock: threading.RLock) -> Iterator[None]:
    """moto's server handles one DynamoDB or DynamoDB Streams request at a time (holding
    ``lock``), atomically as DynamoDB.

    moto backs up what a transaction touches before it and puts it back when it is cancelled.
    With requests on other threads the rollback could undo their writes, and a stream read in
    between could see the records of a transaction that is then cancelled; the API serves
    requests on threads, the pump runs on its own, so concurrent partners would hit both.
    """
    from moto.dynamodb.responses import DynamoHandler
    from moto.dynamodbstreams.responses import DynamoDBStreamsHandler

    with ExitStack() as patches:
        for handler_class in (DynamoHandler, DynamoDBStreamsHandler):
            call_action = handler_class.call_action

            def serialized(handler: Any, call_action: Any = call_action) -> Any:
                with lock:
                    return call_action(handler)

            patches.enter_context(mock.patch.object(handler_class, "call_action", serialized))
        yield


def ensure_port_free(host: str, port: int) -> None:
    """Fail fast: moto's server thread dies on a busy port while its starter waits forever."""
    if port == 0:
        return
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        # As the servers bind: a port whose last connections linger in TIME_WAIT is free.
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as error:
            raise StartupError(f"{host}:{port} is not free ({error.strerror})") from None


def curl_post_order(api_url: str, partner_key: str, idempotency_key: str) -> str:
    return shlex.join(
        [
            "curl", "-sS", "-i", "-X", "POST", f"{api_url}/orders",
            "-H", "Content-Type: application/json",
            "-H", f"X-Api-Key: {partner_key}",
            "-H", f"Idempotency-Key: {idempotency_key}",
            "-d", json.dumps(demo_order(), separators=(",", ":")),
        ]
    )  # fmt: skip


def curl_get_order(api_url: str, partner_key: str) -> str:
    return shlex.join(
        ["curl", "-sS", "-i", f"{api_url}/orders/ORDER_ID", "-H", f"X-Api-Key: {partner_key}"]
    )


def patient_clients() -> Any:
    """A patcher: the app's AWS clients wait for moto as long as a loaded machine needs
    (the same settings that bound them on AWS, ``shared.config.aws_client_settings``)."""
    from shared.adapters import aws
    from shared.config import aws_client_settings

    aws_client_settings.cache_clear()
    aws.config.cache_clear()
    aws.reset()
    return mock.patch.dict(
        os.environ,
        {
            "BOTOCORE_CONNECT_TIMEOUT_SECONDS": str(LOCAL_CONNECT_TIMEOUT_SECONDS),
            "BOTOCORE_READ_TIMEOUT_SECONDS": str(LOCAL_READ_TIMEOUT_SECONDS),
        },
    )


def _warm_clients() -> None:
    """Create the shared clients here, before the API and pump threads race to create them.

    ``shared.adapters.aws`` caches one client per service; creating clients from one boto3
    session in two threads at once is not safe.
    """
    from shared.adapters import aws

    for service in ("dynamodb", "events"):
        aws.client(service)


def _link_to(api_url: str) -> None:
    """E-mails link to this API (PUBLIC_API_URL, the REST API's URL on AWS)."""
    from shared.config import settings

    os.environ["PUBLIC_API_URL"] = api_url
    settings.cache_clear()  # seeding read the settings before the port was known


class PumpThread(threading.Thread):
    """Runs the pump until stopped; a failure never kills it.

    While there is work it passes again at once; idle, it waits ``interval`` seconds, or, given
    ``work_waiting`` (set by the requests that can bring work, see ``moto_writes``), until that is
    set or ``idle_interval`` seconds have passed (messages coming back after their visibility
    timeout announce nothing). Every ``trim_interval`` seconds it also calls ``trim`` with the
    pump's stream positions (the stack drops the stream records the pump is done with).
    """

    def __init__(
        self,
        pump: Any,
        interval: float = PUMP_INTERVAL_SECONDS,
        trim: Callable[[dict[str, tuple[str, str] | None]], object] | None = None,
        trim_interval: float = TRIM_INTERVAL_SECONDS,
        *,
        work_waiting: threading.Event | None = None,
        idle_interval: float = PUMP_IDLE_INTERVAL_SECONDS,
    ) -> None:
        super().__init__(name="event-pump", daemon=True)
        self.pump = pump
        self._interval = interval
        self._trim = trim
        self._trim_interval = trim_interval
        self._work_waiting = work_waiting
        self._idle_interval = idle_interval
        self._stopping = threading.Event()

    def run(self) -> None:
        trimmed_at = time.monotonic()
        while not self._stopping.is_set():
            busy = False
            try:
                busy = self.pump.pump_once() > 0  # more may be waiting: go on at once
                if self._trim is not None and time.monotonic() - trimmed_at >= self._trim_interval:
                    self._trim(self.pump.stream_positions)
                    trimmed_at = time.monotonic()
            except Exception:
                if self._stopping.is_set():
                    return  # moto may already be going away
                log.exception("event pump: a poll failed; retrying")
            if not busy:
                self._idle()

    def _idle(self) -> None:
        if self._work_waiting is None:
            self._stopping.wait(self._interval)
            return
        self._work_waiting.wait(self._idle_interval)
        self._work_waiting.clear()  # what came before this is seen by the next pass

    def stop(self, timeout: float = STOP_TIMEOUT_SECONDS) -> None:
        self._stopping.set()
        if self._work_waiting is not None:
            self._work_waiting.set()
        if self.is_alive():
            self.join(timeout)


@dataclass(frozen=True)
class Ready:
    """What a caller needs once the stack is up (printed, and written to --ready-file as JSON)."""

    api_url: str
    moto_url: str
    partner_key: str
    admin_key: str
    curl_post_order: str
    curl_get_order: str

    def to_json(self) -> str:
        return json.dumps(self.__dict__, indent=2)


class LocalStack:
    """Start with ``start()``, stop with ``stop()`` (safe to call at any point, and twice).

    With a ``state_dir``, moto's world is saved there on stop and loaded from there on start
    (``fresh`` starts empty all the same, and saves over it on stop).
    """

    def __init__(
        self,
        host: str = HOST,
        port: int = 8000,
        moto_port: int = 5000,
        seed_keys: tuple[str, str] | None = None,
        state_dir: Path | None = None,
        *,
        fresh: bool = False,
        stream_retention: timedelta = STREAM_RETENTION,
    ) -> None:
        self.host = host
        self.port = port
        self.moto_port = moto_port
        self._seed_keys = seed_keys
        self._state_dir = state_dir
        self._fresh = fresh
        self._stream_retention = stream_retention
        self._dynamodb = threading.RLock()  # one DynamoDB request at a time, and trimming
        self._work_waiting = threading.Event()  # a request to moto may have given the pump work
        self._moto: Any = None
        self._patches = ExitStack()
        self._server: Any = None
        self._server_thread: threading.Thread | None = None
        self._pump_thread: PumpThread | None = None
        self._table_name = ""
        self.ready: Ready | None = None

    # --- start ---------------------------------------------------------------------------------

    def start(self) -> Ready:
        moto_url = self._start_moto()
        point_at_moto(moto_url)
        self._patches.enter_context(patient_clients())  # before the seed creates any client
        config = self._chalice_config()
        session = boto3.session.Session(region_name=stack.REGION)
        saved = self._restore()
        outputs = stack.stack_outputs(session) if saved else stack.deploy(session)
        self._table_name = outputs["TableName"]
        stack.apply_environment(stack.environment(outputs, self._api_url()))
        keys = self._keep_keys(saved) if saved else self._seed()
        _warm_clients()
        app_module = self._start_api(config)
        api_url = self._api_url()  # the port is known now, even if 0 was asked for
        _link_to(api_url)
        self._start_pump(app_module, session, outputs, saved.stream_positions if saved else {})
        self.ready = Ready(
            api_url=api_url,
            moto_url=moto_url,
            partner_key=keys[0],
            admin_key=keys[1],
            curl_post_order=curl_post_order(api_url, keys[0], str(uuid.uuid4())),
            curl_get_order=curl_get_order(api_url, keys[0]),
        )
        return self.ready

    def _api_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def _start_moto(self) -> str:
        from moto.server import ThreadedMotoServer

        ensure_port_free(HOST, self.moto_port)
        # What keeps a day-long run flat: transactions back up only what they touch, the
        # stream hands out a bounded number of iterators (and the pump trims what it read).
        self._patches.enter_context(one_dynamodb_request_at_a_time(self._dynamodb))
        self._patches.enter_context(lean_transactions())
        self._patches.enter_context(bounded_shard_iterators())
        self._patches.enter_context(trimmed_reads_refused())
        self._patches.enter_context(honoured_request_tokens())
        self._patches.enter_context(partitioned_deliveries())
        self._patches.enter_context(announced_writes(self._work_waiting))
        self._moto = ThreadedMotoServer(ip_address=HOST, port=self.moto_port, verbose=False)
        self._moto.start()
        host, port = self._moto.get_host_and_port()
        self.moto_port = port
        return f"http://{host}:{port}"

    def _restore(self) -> persistence.SavedState | None:
        """moto's world as the last run left it, if there is one to load (and not ``fresh``)."""
        if self._state_dir is None or self._fresh or not persistence.exists(self._state_dir):
            return None
        try:
            saved = persistence.load(self._state_dir, template_digest=stack.template_digest())
        except persistence.IncompatibleStateError as error:
            raise StartupError(
                f"the state in {self._state_dir} cannot be loaded ({error}); "
                "start with --fresh (make run FRESH=1) to start empty"
            ) from None
        log.info("restored the state saved in %s", self._state_dir)
        return saved

    def _seed(self) -> tuple[str, str]:
        from infra.local.seed import seed
        from shared.http.auth import new_key

        partner_key, admin_key = self._seed_keys or (new_key(), new_key())
        keys = seed(partner_key, admin_key)
        return keys.partner, keys.admin

    def _keep_keys(self, saved: persistence.SavedState) -> tuple[str, str]:
        """The demo data is there already: the keys of the last run, or those asked for."""
        from infra.local.seed import ensure_demo_keys

        partner_key, admin_key = self._seed_keys or (saved.partner_key, saved.admin_key)
        keys = ensure_demo_keys(partner_key, admin_key)
        return keys.partner, keys.admin

    def _chalice_config(self) -> Any:
        """The stage's Config, built as ``chalice local`` builds it; its variables go to the env."""
        from chalice.cli.factory import CLIFactory

        config = CLIFactory(project_dir=str(ROOT), environ=os.environ).create_config_obj(
            chalice_stage_name=CHALICE_STAGE
        )
        # What each Lambda function gets from .chalice/config.json (POWERTOOLS_SERVICE_NAME...).
        os.environ.update(config.environment_variables)
        return config

    def _start_api(self, config: Any) -> ModuleType:
        """Import the app (the environment is complete now) and serve it in a thread."""
        from chalice.deploy.validate import validate_routes
        from chalice.local import create_local_server

        if str(ROOT) not in sys.path:
            sys.path.insert(0, str(ROOT))
        app_module = importlib.import_module("app")
        validate_routes(app_module.app.routes)
        try:
            self._server = create_local_server(app_module.app, config, self.host, self.port)
        except OSError as error:
            raise StartupError(
                f"cannot serve on {self.host}:{self.port} ({error.strerror})"
            ) from None
        self.port = self._server.server.server_address[1]
        self._server_thread = threading.Thread(
            target=self._server.server.serve_forever, name="api-server", daemon=True
        )
        self._server_thread.start()
        return app_module

    def _start_pump(
        self,
        app_module: ModuleType,
        session: boto3.session.Session,
        outputs: dict[str, str],
        stream_positions: dict[str, tuple[str, str] | None],
    ) -> None:
        from infra.local.pump import EventPump

        pump = EventPump(
            app_module,
            session,
            stack.queue_urls(session),
            outputs["TableStreamArn"],
            retry_delay_seconds=PUMP_RETRY_DELAY_SECONDS,
            stream_positions=stream_positions,
        )
        self._pump_thread = PumpThread(
            pump,
            trim=self.trim_stream,
            trim_interval=min(TRIM_INTERVAL_SECONDS, self._stream_retention.total_seconds()),
            work_waiting=self._work_waiting,
        )
        self._pump_thread.start()

    def trim_stream(self, positions: dict[str, tuple[str, str] | None]) -> int:
        """Drop the table's stream records the pump has read, once past the retention window."""
        return trim_read_records(
            self._table_name, positions, self._stream_retention, self._dynamodb
        )

    # --- stop ----------------------------------------------------------------------------------

    def stop(self) -> None:
        """API first (no new work), then the pump (finishes its pass), save, then moto."""
        if self._server is not None:
            if self._server_thread is not None and self._server_thread.is_alive():
                self._server.shutdown()  # waits for serve_forever to return
                self._server_thread.join(STOP_TIMEOUT_SECONDS)
            self._server.server.server_close()
            self._server = None
        positions = None
        if self._pump_thread is not None:
            self._pump_thread.stop()
            positions = self._pump_thread.pump.stream_positions
            self._pump_thread = None
        if self.ready is not None and positions is not None and self._state_dir is not None:
            self._save(self._state_dir, self.ready, positions)
            self.ready = None
        if self._moto is not None:
            self._moto.stop()
            self._moto = None
        self._patches.close()

    def _save(
        self, directory: Path, ready: Ready, positions: dict[str, tuple[str, str] | None]
    ) -> None:
        started = time.monotonic()
        with self._dynamodb:
            persistence.save(
                directory,
                persistence.SavedState(
                    partner_key=ready.partner_key,
                    admin_key=ready.admin_key,
                    stream_positions=positions,
                    moto_version=persistence.moto_version(),
                    template_digest=stack.template_digest(),
                ),
            )
        log.info("saved the state in %s (%.1f s)", directory, time.monotonic() - started)


def banner(ready: Ready) -> str:
    return "\n".join(
        [
            "",
            "Local stack is up (moto + infra/resources.yaml + the Chalice app + the event pump).",
            "",
            f"  API            {ready.api_url}",
            f"  moto           {ready.moto_url}   (AWS_ENDPOINT_URL for your own boto3 / aws cli)",
            f"  partner key    {ready.partner_key}   (prt_demo: customers cus_acme, cus_globex)",
            f"  admin key      {ready.admin_key}   (stf_admin, role admin)",
            "",
            "Place an order (201; run it twice: the same Idempotency-Key replays the same order):",
            "",
            f"  {ready.curl_post_order}",
            "",
            "Read it (replace ORDER_ID with the id the POST returned; it turns confirmed within",
            "a second, once the pump has carried OrderReceived to the confirmation worker):",
            "",
            f"  {ready.curl_get_order}",
            "",
            "Schedules: moto never fires them. The daily collection run (run_collections, 06:00",
            "on AWS) starts from `make collect` (POST /collection-runs with the admin key; the",
            "pump hands each customer to remind_customers, whose e-mails land in moto's SES);",
            "`make collect DRY_RUN=1` shows what would be sent, `AS_OF=YYYY-MM-DD` picks the day.",
            f"The pump reads the table's stream every {PUMP_INTERVAL_SECONDS:g} s.",
            "",
            "State: saved on stop and restored on start (orders, events, queues, keys), in",
            "build/local-state/ for `make run`; `make run FRESH=1` (--fresh) starts empty.",
            "",
            "Ctrl-C stops everything.",
            "",
        ]
    )
