"""`make snapshot`: the nightly report snapshot taken on the running local stack by hand.

moto's Scheduler never fires, so ``python -m infra.local.snapshot`` (what ``make snapshot``
runs) takes it in its own process, against the stack's moto.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import boto3
import pytest

from tests.e2e.conftest import ADMIN_KEY, ROOT, LocalStack

pytestmark = pytest.mark.e2e


def snapshot(*arguments: str) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "infra.local.snapshot", *arguments]
    return subprocess.run(
        command, check=False, cwd=ROOT, capture_output=True, text=True, timeout=120
    )


def test_a_day_is_snapshotted_into_the_stacks_bucket(local_stack: LocalStack) -> None:
    # When a developer runs `make snapshot DAY=2026-11-30` against the stack
    done = snapshot("--ready-file", str(local_stack.ready_file), "--day", "2026-11-30")

    # Then the objects were written to the stack's bucket, under the day's partition
    assert done.returncode == 0, done.stderr
    taken = json.loads(done.stdout)
    assert taken["day"] == "2026-11-30"
    assert "reports/aging/dt=2026-11-30/aging.json" in taken["objects"]
    s3 = boto3.client(
        "s3",
        endpoint_url=local_stack.ready["moto_url"],
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    buckets = [bucket["Name"] for bucket in s3.list_buckets()["Buckets"]]
    keys = {
        item["Key"]
        for bucket in buckets
        for item in s3.list_objects_v2(Bucket=bucket, Prefix="reports/").get("Contents", [])
    }
    assert {
        "reports/aging/dt=2026-11-30/aging.json",
        "reports/aging/dt=2026-11-30/aging.csv",
        "reports/kpis/dt=2026-11-30/kpis.json",
        "reports/kpis/dt=2026-11-30/kpis.csv",
        "reports/positions/dt=2026-11-30/positions.json",
    } <= keys
    # and the API answers that day's aging from its positions (GET /reports/aging?as_of=...)
    answer = local_stack.request(
        "GET", "/reports/aging?as_of=2026-11-30", headers={"X-Api-Key": ADMIN_KEY}
    )
    assert answer.status == 200, answer.body
    assert (answer.json()["source"], answer.json()["as_of"]) == ("current", "2026-11-30")


def test_without_a_running_stack_it_says_how_to_start_one(tmp_path: Path) -> None:
    # When no stack wrote its ready file
    done = snapshot("--ready-file", str(tmp_path / "missing.json"))

    # Then
    assert done.returncode == 2
    assert "make run" in done.stderr
