"""One Logger, Tracer and Metrics for the whole app (service name from POWERTOOLS_SERVICE_NAME)."""

from __future__ import annotations

from aws_lambda_powertools import Logger, Metrics, Tracer

logger = Logger(service="otc")
tracer = Tracer(service="otc")
metrics = Metrics(namespace="OrderToCash", service="otc")
