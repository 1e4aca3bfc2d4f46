"""Runtime settings, read once from the environment the deployment (or the local stack) sets."""

from __future__ import annotations

import os
from datetime import date
from functools import cache
from typing import TYPE_CHECKING, Any

from pydantic import ConfigDict, Field

from shared.model import Model

if TYPE_CHECKING:
    from shared.domain.chart import ChartOfAccounts
    from shared.domain.seller import Seller


class Settings(Model):
    model_config = ConfigDict(frozen=True)

    table_name: str
    idempotency_table_name: str
    event_bus_name: str
    documents_bucket: str = ""
    sender_email: str = ""  # the verified SES identity customer e-mails come from
    import_rows_queue_url: str = ""  # where the import file worker fans rows out to
    collection_queue_url: str = ""  # where the collection run fans customers out to
    collection_time_zone: str = "UTC"  # IANA zone whose calendar day a scheduled run collects for
    public_api_url: str = ""  # the API's base URL, for links in e-mails (no trailing slash)
    seller_profile: str = ""  # the seller on invoices, as JSON (empty: the demo seller)
    stripe_webhook_secret_parameter: str = ""  # SSM SecureString holding Stripe's signing secret
    stripe_api_key_parameter: str = ""  # SSM SecureString holding Stripe's secret API key
    # Where the stripe library sends requests; empty on AWS (Stripe's API). The local stack's
    # browser test points it at a stub on 127.0.0.1 answering Stripe's recorded responses.
    stripe_api_base: str = ""
    webhook_secrets_prefix: str = ""  # SSM path of generic providers' secrets: <prefix>/<provider>
    dashboard_link_secret_parameter: str = ""  # SSM SecureString signing dashboard links
    max_body_bytes: int = 256 * 1024
    # A posted bank statement larger than this is imported by a worker (202); 0: every one.
    statement_sync_max_bytes: int = 256 * 1024
    idempotency_ttl_seconds: int = 96 * 3600  # Stripe retries for 3 days; keep a margin.
    webhook_allow_loopback: bool = False  # partner webhooks to 127.0.0.1: the local stack only
    chart_of_accounts: str = ""  # JSON laid over the default chart (shared/domain/chart.py)
    lake_bucket: str = ""  # the analytics lake's bucket (objects under lake/<table>/dt=<day>/)
    lake_stream_prefix: str = ""  # Firehose delivery streams: <prefix><table> (e.g. journal)
    lake_engine: str = "duckdb"  # what runs the lake's SQL: athena (AWS) or duckdb (one machine)
    lake_workgroup: str = ""  # Athena's workgroup (results location, bytes-scanned cutoff)
    lake_database: str = ""  # the Glue database of the lake's tables


class AwsClientSettings(Model):
    """How long an AWS call may take, and how often botocore tries it, in every client.

    API Gateway gives up on a request after 29 s: a call that exhausts its attempts
    (``max_attempts`` x (connect + read) plus backoff) leaves the request time to answer 503
    rather than be cut off. Read without the table's settings, so any process can make clients.
    """

    model_config = ConfigDict(frozen=True)

    connect_timeout_seconds: float = Field(default=2.0, gt=0)
    read_timeout_seconds: float = Field(default=5.0, gt=0)
    max_attempts: int = Field(default=3, ge=1)  # botocore's standard mode: the first try included


@cache
def settings() -> Settings:
    """The settings of this process (tests that change the environment call ``cache_clear``)."""
    return Settings(
        table_name=os.environ["TABLE_NAME"],
        idempotency_table_name=os.environ["IDEMPOTENCY_TABLE_NAME"],
        event_bus_name=os.environ["EVENT_BUS_NAME"],
        documents_bucket=os.environ.get("DOCUMENTS_BUCKET", ""),
        sender_email=os.environ.get("SENDER_EMAIL", ""),
        import_rows_queue_url=os.environ.get("IMPORT_ROWS_QUEUE_URL", ""),
        collection_queue_url=os.environ.get("COLLECTION_QUEUE_URL", ""),
        collection_time_zone=os.environ.get("COLLECTION_TIME_ZONE", "") or "UTC",
        public_api_url=os.environ.get("PUBLIC_API_URL", "").rstrip("/"),
        seller_profile=os.environ.get("SELLER_PROFILE", ""),
        stripe_webhook_secret_parameter=os.environ.get("STRIPE_WEBHOOK_SECRET_PARAMETER", ""),
        stripe_api_key_parameter=os.environ.get("STRIPE_API_KEY_PARAMETER", ""),
        stripe_api_base=os.environ.get("STRIPE_API_BASE", ""),
        webhook_secrets_prefix=os.environ.get("WEBHOOK_SECRETS_PREFIX", ""),
        dashboard_link_secret_parameter=os.environ.get("DASHBOARD_LINK_SECRET_PARAMETER", ""),
        webhook_allow_loopback=os.environ.get("WEBHOOK_ALLOW_LOOPBACK", "") in {"1", "true"},
        chart_of_accounts=os.environ.get("CHART_OF_ACCOUNTS", ""),
        lake_bucket=os.environ.get("LAKE_BUCKET", ""),
        lake_stream_prefix=os.environ.get("LAKE_STREAM_PREFIX", ""),
        lake_engine=os.environ.get("LAKE_ENGINE", "") or "duckdb",
        lake_workgroup=os.environ.get("LAKE_WORKGROUP", ""),
        lake_database=os.environ.get("LAKE_DATABASE", ""),
        **_given({"statement_sync_max_bytes": "STATEMENT_SYNC_MAX_BYTES"}),
    )


def _given(names: dict[str, str]) -> dict[str, Any]:
    """The fields whose environment variable is set and not empty (the others keep defaults)."""
    return {field: os.environ[name] for field, name in names.items() if os.environ.get(name)}


@cache
def aws_client_settings() -> AwsClientSettings:
    """``BOTOCORE_CONNECT_TIMEOUT_SECONDS``, ``BOTOCORE_READ_TIMEOUT_SECONDS``,
    ``BOTOCORE_MAX_ATTEMPTS``; each unset or empty one keeps its default."""
    names = {
        "connect_timeout_seconds": "BOTOCORE_CONNECT_TIMEOUT_SECONDS",
        "read_timeout_seconds": "BOTOCORE_READ_TIMEOUT_SECONDS",
        "max_attempts": "BOTOCORE_MAX_ATTEMPTS",
    }
    return AwsClientSettings.model_validate(_given(names))


DEFAULT_BUSINESS_WINDOW = (date(2000, 1, 1), date(2099, 12, 31))


def business_window() -> tuple[date, date]:
    """The first and last day a business date may name (``BUSINESS_DATES_FROM``/``_TO``)."""
    first, last = DEFAULT_BUSINESS_WINDOW
    return (
        date.fromisoformat(os.environ.get("BUSINESS_DATES_FROM") or first.isoformat()),
        date.fromisoformat(os.environ.get("BUSINESS_DATES_TO") or last.isoformat()),
    )


@cache
def seller() -> Seller:
    """Who issues the invoices: the ``SellerProfile`` stack parameter, read once per process.

    An empty profile stands for the demo seller, so the local stack and tests need none; a real
    deployment must set it (its legal name, address, VAT id and bank account go on every invoice).
    """
    from shared.domain import seller as seller_domain

    profile = settings().seller_profile.strip()
    return seller_domain.load(profile) if profile else seller_domain.DEMO


@cache
def chart_of_accounts() -> ChartOfAccounts:
    """The chart the journal books to: the default, with the ``ChartOfAccounts`` stack
    parameter (JSON) laid over it, read once per process."""
    from shared.domain import chart

    return chart.load(settings().chart_of_accounts)
