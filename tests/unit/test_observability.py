"""Tracing costs a cold start the X-Ray SDK only where it is on."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from shared.observability import Untraced, tracing_on

ROOT = Path(__file__).resolve().parents[2]
LAMBDA = {"AWS_LAMBDA_FUNCTION_NAME": "otc-api"}


@pytest.mark.parametrize(
    ("environment", "on"),
    [
        ({**LAMBDA, "POWERTOOLS_TRACE_DISABLED": "false"}, True),
        (LAMBDA, True),
        ({**LAMBDA, "POWERTOOLS_TRACE_DISABLED": "true"}, False),
        ({**LAMBDA, "POWERTOOLS_TRACE_DISABLED": "1"}, False),
        ({"POWERTOOLS_TRACE_DISABLED": "false"}, False),  # not in a Lambda: nothing to trace
    ],
)
def test_tracing_is_on_in_a_lambda_unless_disabled(environment, on):
    assert tracing_on(environment) is on


def test_the_stand_in_returns_what_it_decorates():
    def handler(event, context):
        return event

    assert Untraced().capture_lambda_handler(handler) is handler
    assert Untraced().capture_method(handler) is handler


@pytest.mark.parametrize(("disabled", "imported"), [("true", False), ("false", True)])
def test_the_xray_sdk_is_imported_only_where_tracing_is_on(disabled, imported):
    # When the app is imported in a fresh Lambda-like interpreter
    environment = {
        **os.environ,
        **LAMBDA,
        "AWS_REGION": "us-east-1",
        "POWERTOOLS_TRACE_DISABLED": disabled,
    }
    script = "import sys, app; print('aws_xray_sdk' in sys.modules)"
    result = subprocess.run(
        [sys.executable, "-c", script],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        check=True,
    )

    # Then the X-Ray SDK was loaded exactly when tracing is on
    assert result.stdout.strip().splitlines()[-1] == str(imported)
