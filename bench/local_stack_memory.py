"""The local stack's memory over a working day: RSS while orders arrive at a steady rate.

A developer leaves `make run` up all day. This starts the stack as `make run` does (``python -m
infra.local`` in a process of its own, on 127.0.0.1, with a state folder of its own), places
orders over HTTP at ``rate`` per second for ``minutes`` (each with its own Idempotency-Key, for a
customer of the run's own whose credit never refuses one), and reads the stack process's resident
set size (``VmRSS`` in /proc) every ``sample_seconds``. The pump confirms every order as it goes,
so each order costs its whole flow: the order, its events, the stream, the bus, the queue and the
confirmation worker. The figure that matters is the slope: flat memory stays flat for a day.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from bench.load import _partner_key, _post, _setup_customer, order_body

DEFAULT_MINUTES = 30.0
DEFAULT_RATE = 1.0  # orders per second
DEFAULT_SAMPLE_SECONDS = 60.0
TARGET_MB = 1536.0


@dataclass(frozen=True)
class Sample:
    seconds: float  # since the first order
    orders: int  # placed so far
    rss_mb: float


@dataclass(frozen=True)
class Report:
    rate: float
    samples: tuple[Sample, ...]
    failures: int

    @property
    def peak_mb(self) -> float:
        return max(sample.rss_mb for sample in self.samples)


def rss_mb(pid: int) -> float:
    """The process's resident set size in MB, as the kernel reports it."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmRSS for process {pid}")


def measure(
    minutes: float = DEFAULT_MINUTES,
    rate: float = DEFAULT_RATE,
    sample_seconds: float = DEFAULT_SAMPLE_SECONDS,
    *,
    progress: bool = False,
) -> Report:
    from tests.e2e.conftest import ADMIN_KEY, LocalStack

    with tempfile.TemporaryDirectory(prefix="otc-memory-") as workdir:
        stack = LocalStack(Path(workdir)).start()
        try:
            stack.wait_ready()
            assert stack.process is not None
            pid = stack.process.pid
            customer_id = _setup_customer(stack.api_url, ADMIN_KEY)
            partner_key = _partner_key(stack.api_url, ADMIN_KEY, customer_id, 0)
            samples = [Sample(0.0, 0, rss_mb(pid))]
            if progress:
                print(_row(samples[-1]), flush=True)
            failures = placed = 0
            start = time.monotonic()
            next_sample = sample_seconds
            while (elapsed := time.monotonic() - start) < minutes * 60:
                if elapsed >= next_sample:
                    samples.append(Sample(elapsed, placed, rss_mb(pid)))
                    next_sample += sample_seconds
                    if progress:
                        print(_row(samples[-1]), flush=True)
                due = start + placed / rate
                if time.monotonic() < due:
                    time.sleep(min(due - time.monotonic(), 0.5))
                    continue
                try:
                    _post(stack.api_url, "/orders", partner_key, order_body(customer_id))
                except RuntimeError:
                    failures += 1
                placed += 1
            samples.append(Sample(time.monotonic() - start, placed, rss_mb(pid)))
            if progress:
                print(_row(samples[-1]), flush=True)
            return Report(rate, tuple(samples), failures)
        finally:
            stack.stop()


def _row(sample: Sample) -> str:
    return f"| {sample.seconds / 60:.1f} | {sample.orders:,} | {sample.rss_mb:,.0f} |"


def table(report: Report) -> str:
    lines = [
        f"{report.rate:g} order(s) per second; target: under {TARGET_MB:,.0f} MB at every sample.",
        "",
        "| minute | orders placed | RSS (MB) |",
        "|---:|---:|---:|",
        *(_row(sample) for sample in report.samples),
        "",
        f"Peak {report.peak_mb:,.0f} MB; failed requests: {report.failures}.",
    ]
    return "\n".join(lines)


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.local_stack_memory", description=__doc__)
    parser.add_argument("--minutes", type=float, default=DEFAULT_MINUTES)
    parser.add_argument("--rate", type=float, default=DEFAULT_RATE, help="orders per second")
    parser.add_argument("--sample-seconds", type=float, default=DEFAULT_SAMPLE_SECONDS)
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> None:
    options = parse_args(argv)
    report = measure(options.minutes, options.rate, options.sample_seconds, progress=True)
    print(table(report))


if __name__ == "__main__":
    main()
