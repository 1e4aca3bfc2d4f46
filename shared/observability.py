"""One Logger, Tracer and Metrics for the whole app (service name from POWERTOOLS_SERVICE_NAME).

The Tracer imports the X-Ray SDK, a large part of a cold start, so it exists only where tracing
is on (the stack's ``Tracing`` parameter sets ``POWERTOOLS_TRACE_DISABLED``); elsewhere
``tracer`` is a stand-in whose decorators return the function unchanged.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any, TypeVar

from aws_lambda_powertools import Logger, Metrics

F = TypeVar("F", bound=Callable[..., Any])


class Untraced:
    """What the app asks of a Tracer, doing nothing."""

    def capture_lambda_handler(self, handler: F) -> F:
        return handler

    def capture_method(self, method: F) -> F:
        return method


def tracing_on(environment: dict[str, str] | os._Environ[str] = os.environ) -> bool:
    """In a Lambda with tracing not disabled (Powertools' own reading of the variable)."""
    disabled = environment.get("POWERTOOLS_TRACE_DISABLED", "false").strip().lower()
    in_lambda = bool(environment.get("AWS_LAMBDA_FUNCTION_NAME"))
    return in_lambda and disabled not in ("1", "true", "yes", "on")


def _tracer() -> Any:
    if not tracing_on():
        return Untraced()
    from aws_lambda_powertools import Tracer

    return Tracer(service="otc")


logger = Logger(service="otc")
tracer = _tracer()
metrics = Metrics(namespace="OrderToCash", service="otc")
