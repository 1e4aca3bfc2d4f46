"""`make collect`: the collection run fired against the running local stack, as a developer does.

moto's Scheduler never fires, so ``python -m infra.local.collect`` (what ``make collect`` runs)
starts the run through the API with the admin key the stack wrote to its ready file.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.e2e.conftest import ROOT, LocalStack


def collect(*arguments: str) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "infra.local.collect", *arguments]
    return subprocess.run(
        command, check=False, cwd=ROOT, capture_output=True, text=True, timeout=180
    )


def _answer(stdout: str) -> dict[str, object]:
    """The JSON the command printed under its headline."""
    start = stdout.index("{")
    answer: dict[str, object] = json.JSONDecoder().raw_decode(stdout[start:])[0]
    return answer


def test_a_dry_run_shows_what_would_be_sent_and_sends_nothing(local_stack: LocalStack) -> None:
    # When a developer runs `make collect DRY_RUN=1 AS_OF=2027-01-06` against the stack
    ready = str(local_stack.ready_file)
    done = collect("--ready-file", ready, "--dry-run", "--as-of", "2027-01-06")

    # Then the API answered with the plans, and the command says nothing was recorded or sent
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("Dry run (200): nothing was recorded or sent.")
    answer = _answer(done.stdout)
    assert answer["as_of"] == "2027-01-06"
    assert answer["dry_run"] is True
    assert isinstance(answer["plans"], list)


def test_a_run_is_started_with_the_stacks_admin_key(local_stack: LocalStack) -> None:
    # When a developer runs `make collect` against the stack
    done = collect("--ready-file", str(local_stack.ready_file))

    # Then the run was accepted: its customers are on their way to the reminder worker
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("Collection run started (202):")
    answer = _answer(done.stdout)
    assert str(answer["run_id"]).startswith("run_")
    assert answer["dry_run"] is False


def test_without_a_running_stack_it_says_how_to_start_one(tmp_path: Path) -> None:
    # When no stack wrote its ready file
    done = collect("--ready-file", str(tmp_path / "missing.json"))

    # Then it exits with a hint, not a traceback
    assert done.returncode == 2
    assert "make run" in done.stderr
    assert "Traceback" not in done.stderr
