"""Merge infra/resources.yaml into Chalice's SAM template and patch what Chalice cannot express.

Chalice sees app.py's triggers but not our resources: it points SQS sources at queue *names*, the
stream source at a placeholder ARN, schedules at EventBridge's default bus, and knows neither
partial batch responses (chalice#2029), custom buses (chalice#1755) nor source DLQs (chalice#967).
Each gap is closed here, on the generated template, so app.py stays the one place triggers live.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from infra.topology import STREAM_CONSUMERS, function_logical_id, queue_logical_id
from shared.http.problems import CONTENT_TYPE, PROBLEM_BASE

Template = dict[str, Any]
Event = dict[str, Any]

FUNCTION_TYPE = "AWS::Serverless::Function"
RUNTIME = "python3.12"
ARCHITECTURE = "arm64"
LOG_RETENTION_DAYS = 90  # a quarter: enough to investigate a month-end close
STREAM_MAX_RETRY_ATTEMPTS = 10  # then the batch goes to its on-failure queue
PARTIAL_BATCH = ["ReportBatchItemFailures"]

TABLE = "Table"
BUS = "EventBus"
SCHEDULE_DLQ = "ScheduleDeadLetterQueue"
# Scheduler retries an invocation Lambda refused (throttled, unavailable) this often within this
# age, then sends it to SCHEDULE_DLQ. The scheduled functions are idempotent per scheduled time.
SCHEDULE_RETRY_POLICY = {"MaximumRetryAttempts": 10, "MaximumEventAgeInSeconds": 3600}

# Reserved concurrency per function, each a stack parameter <Function>ReservedConcurrency with
# this default (-1 leaves the function unreserved, e.g. in an account whose concurrency quota is
# still the new-account 10). A reservation both guarantees and caps: the API keeps capacity when a
# backlog floods the workers, and a flooded worker cannot starve the API or hammer a partner. An
# SQS consumer's event source mapping gets the same MaximumConcurrency, so its pollers stop at the
# cap instead of being throttled (a throttled message counts a receive towards the DLQ).
UNRESERVED = -1
DEFAULT_RESERVED_CONCURRENCY = 5
RESERVED_CONCURRENCY: dict[str, int] = {
    "APIHandler": 100,
    "PublishEvents": 10,
    "LandInLake": 10,
    "SweepOutbox": 1,
    "RunCollections": 1,
    "RunReports": 1,
    "ExportJournal": 1,
}

# Only new event items are worth a publisher invocation: state items and markers are filtered
# out by Lambda before they cost anything.
ENVIRONMENT: dict[str, Any] = {
    "TABLE_NAME": {"Ref": TABLE},
    "IDEMPOTENCY_TABLE_NAME": {"Ref": "IdempotencyTable"},
    "EVENT_BUS_NAME": {"Fn::GetAtt": [BUS, "Name"]},
    "DOCUMENTS_BUCKET": {"Ref": "DocumentsBucket"},
    "SENDER_EMAIL": {"Ref": "SenderEmail"},
    "IMPORT_ROWS_QUEUE_URL": {"Ref": "ImportRowsQueue"},
    "COLLECTION_QUEUE_URL": {"Ref": "CollectionRemindersQueue"},
    "COLLECTION_TIME_ZONE": {"Ref": "CollectionTimeZone"},
    "SELLER_PROFILE": {"Ref": "SellerProfile"},
    "WEBHOOK_SECRETS_PREFIX": {"Fn::Sub": "${WebhookSecretsPath}/${Stage}"},
    "STRIPE_WEBHOOK_SECRET_PARAMETER": {"Fn::Sub": "${WebhookSecretsPath}/${Stage}/stripe"},
    "STRIPE_API_KEY_PARAMETER": {"Fn::Sub": "${WebhookSecretsPath}/${Stage}/stripe-api-key"},
    "DASHBOARD_LINK_SECRET_PARAMETER": {"Fn::Sub": "${DashboardSecretsPath}/${Stage}/link-secret"},
    "CHART_OF_ACCOUNTS": {"Ref": "ChartOfAccounts"},
    "LAKE_BUCKET": {"Ref": "LakeBucket"},
    "LAKE_STREAM_PREFIX": {"Fn::Sub": "otc-${Stage}-lake-"},
    "LAKE_ENGINE": "athena",
    "LAKE_WORKGROUP": {"Fn::Sub": "otc-${Stage}-lake"},
    "LAKE_DATABASE": {"Fn::Sub": "otc_${Stage}_lake"},
    # Powertools' Tracer (and the X-Ray SDK it imports) only where tracing is on
    "POWERTOOLS_TRACE_DISABLED": {"Fn::If": ["TracingActive", "false", "true"]},
}


# The API's base URL, for links in e-mails, goes to the functions that write such links.
# Chalice names the REST API RestAPI and deploys it to the stage .chalice/config.json sets (its
# EndpointURL output). A function the API itself refers to (its handler) cannot have it: API ->
# function -> API is a cycle CloudFormation refuses.
REST_API = "RestAPI"
PUBLIC_API_URL = "PUBLIC_API_URL"
# The reminder e-mail links the statement and the customer portal, the invoice e-mail the portal.
LINKS_TO_API = frozenset({"RemindCustomers", "DeliverInvoices"})
# Cron schedules that fire at a wall-clock time of the seller's, not of UTC.
SCHEDULE_TIME_ZONES: dict[str, Any] = {"RunCollections": {"Ref": "CollectionTimeZone"}}
# What a schedule hands its function. Without an Input, Scheduler invokes the function with
# "{}", which Chalice cannot read as the "Scheduled Event" app.py's handlers take (the rule
# based schedules Chalice has in mind send that envelope). So the envelope is the Input, filled
# in by Scheduler's context attributes: ``time`` is when the invocation was scheduled for (UTC),
# the same on every retry of it.
SCHEDULED_EVENT = json.dumps(
    {
        "version": "0",
        "id": "<aws.scheduler.execution-id>",
        "detail-type": "Scheduled Event",
        "source": "aws.scheduler",
        "account": "${AWS::AccountId}",
        "time": "<aws.scheduler.scheduled-time>",
        "region": "${AWS::Region}",
        "resources": ["<aws.scheduler.schedule-arn>"],
        "detail": {},
    },
    separators=(",", ":"),
)


# API Gateway answers some requests itself, before any function runs: an unknown route or method
# (its 403 "Missing Authentication Token", which is a 404 here), a body over its 10 MB, its
# throttling, a missing or unknown API Gateway key, an integration that timed out. Each answers
# RFC 9457 problem+json as the app does; the other 4xx and 5xx of the gateway too, without a
# ``status`` member (the template cannot know it). ``$context.error.messageString`` is the
# gateway's message, already quoted for JSON.
GATEWAY_PROBLEMS: dict[str, tuple[int | None, str, str]] = {
    "MISSING_AUTHENTICATION_TOKEN": (404, "not-found", "Not found"),
    "REQUEST_TOO_LARGE": (413, "payload-too-large", "Body too large"),
    "THROTTLED": (429, "throttled", "Too many requests"),
    # RequireGatewayApiKeys: no key API Gateway knows (none sent, or revoked): as the app answers
    "INVALID_API_KEY": (401, "unauthorized", "Unauthorized"),
    # A key over its usage plan's daily quota
    "QUOTA_EXCEEDED": (429, "quota-exceeded", "Quota exceeded"),
    "INTEGRATION_TIMEOUT": (504, "gateway-timeout", "Gateway timeout"),
    "DEFAULT_4XX": (None, "refused-by-gateway", "Refused by the gateway"),
    "DEFAULT_5XX": (None, "gateway-error", "Gateway error"),
}


# The API function mirrors every key it issues into its role's usage plan (found by name: the
# plan depends on the API's stage, which depends on the function, so its id would be a cycle).
USAGE_PLAN_VARIABLES = {
    "PARTNER_USAGE_PLAN_NAME": "PartnerUsagePlan",
    "STAFF_USAGE_PLAN_NAME": "StaffUsagePlan",
}
API_HANDLER = "APIHandler"
# Routes a caller reaches without an X-Api-Key: payment gateways' signed webhooks, the health
# check, and the pages a browser opens with a signed link (the dashboard, the customer portal).
# Every other route takes a key, and requires an API Gateway key when RequireGatewayApiKeys is
# "true".
KEYLESS_ROUTES = frozenset(
    {
        ("/health", "get"),
        ("/webhooks/stripe", "post"),
        ("/webhooks/{provider}", "post"),
        ("/dashboard", "get"),
        ("/portal/{customer_id}", "get"),
        ("/portal/{customer_id}/invoices/{invoice_id}/document", "get"),
    }
)
HTTP_METHODS = frozenset({"get", "put", "post", "delete", "patch", "head"})  # not options (CORS)
GATEWAY_KEY_CONDITION = "RequiresGatewayApiKeys"
API_KEY_SECURITY = {"type": "apiKey", "name": "x-api-key", "in": "header"}


class WiringError(ValueError):
    """app.py declares something infra/resources.yaml (or this merge) cannot wire."""


@dataclass(frozen=True)
class _Site:
    """Where a trigger sits: its function, and the placeholder app.py uses for the table stream."""

    template: Template
    function_id: str
    stream_placeholder: str


def get_att(resource: str, attribute: str = "Arn") -> dict[str, list[str]]:
    return {"Fn::GetAtt": [resource, attribute]}


def functions(template: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """Logical id -> resource, for every SAM function in the template."""
    return {
        logical_id: resource
        for logical_id, resource in template["Resources"].items()
        if resource["Type"] == FUNCTION_TYPE
    }


def merge(chalice: Template, resources: Template, *, stream_placeholder: str) -> Template:
    """Chalice's template plus our resources, with every function and trigger wired to them."""
    template = json.loads(json.dumps(chalice))
    _add_sections(template, resources)
    if (api := template["Resources"].get(REST_API)) is not None:
        api["Properties"]["DefinitionBody"]["x-amazon-apigateway-gateway-responses"] = (
            gateway_responses()
        )
    for logical_id, function in functions(template).items():
        _wire_function(template, logical_id, function["Properties"])
        _reserve_concurrency(template, logical_id, function["Properties"])
        if logical_id in LINKS_TO_API:
            variables = function["Properties"]["Environment"]["Variables"]
            variables[PUBLIC_API_URL] = _public_api_url(template, logical_id)
        events = function["Properties"].get("Events", {})
        site = _Site(template, logical_id, stream_placeholder)
        for name, event in events.items():
            events[name] = _wire_event(site, event)
    return template


def gateway_responses() -> dict[str, dict[str, Any]]:
    """The REST API's own answers as problem+json (``x-amazon-apigateway-gateway-responses``)."""
    responses = {}
    for response_type, (status, kind, title) in GATEWAY_PROBLEMS.items():
        body = f'"type":"{PROBLEM_BASE}{kind}","title":"{title}",'
        if status is not None:
            body += f'"status":{status},'
        body += '"detail":$context.error.messageString,"instance":"$context.path"'
        response: dict[str, Any] = {
            "responseParameters": {"gatewayresponse.header.Content-Type": f"'{CONTENT_TYPE}'"},
            "responseTemplates": {"application/json": "{" + body + "}"},
        }
        if status is not None:
            response["statusCode"] = str(status)
        responses[response_type] = response
    return responses


def access_log_format() -> str:
    """One JSON line per request: who, what, the answer and how long it took (never a key)."""
    fields = {
        "requestId": "$context.requestId",
        "ip": "$context.identity.sourceIp",
        "requestTime": "$context.requestTime",
        "httpMethod": "$context.httpMethod",
        "resourcePath": "$context.resourcePath",
        "status": "$context.status",
        "protocol": "$context.protocol",
        "responseLength": "$context.responseLength",
        "latency": "$context.responseLatency",
        "integrationLatency": "$context.integrationLatency",
        "errorType": "$context.error.responseType",
        "userAgent": "$context.identity.userAgent",
    }
    return json.dumps(fields, separators=(",", ":"))


def limit_and_log_api(template: Template, api_resources: Template) -> None:
    """Add infra/wiring/api.yaml; throttle the REST API's stage and give it a JSON access log.

    Run after ``iam.attach_roles``, which drops every IAM resource it did not write (Chalice's):
    api.yaml brings API Gateway's own logging role.
    """
    api = template["Resources"].get(REST_API)
    if api is None:
        raise WiringError("api.yaml limits and logs the REST API, but Chalice wrote none")
    _add_sections(template, api_resources)
    properties = api["Properties"]
    properties["MethodSettings"] = [
        {
            "ResourcePath": "/*",
            "HttpMethod": "*",
            "ThrottlingRateLimit": {"Ref": "ApiThrottleRateLimit"},
            "ThrottlingBurstLimit": {"Ref": "ApiThrottleBurstLimit"},
            "MetricsEnabled": True,
        }
    ]
    properties["AccessLogSetting"] = {
        "DestinationArn": get_att("ApiAccessLogGroup"),
        "Format": access_log_format(),
    }
    api["DependsOn"] = sorted({*api.get("DependsOn", []), "ApiGatewayAccount"})
    _require_gateway_keys(properties["DefinitionBody"])
    variables = template["Resources"][API_HANDLER]["Properties"]["Environment"]["Variables"]
    for variable, plan in USAGE_PLAN_VARIABLES.items():
        variables[variable] = api_resources["Resources"][plan]["Properties"]["UsagePlanName"]


def _require_gateway_keys(definition: dict[str, Any]) -> None:
    """Every route that takes X-Api-Key requires an API Gateway key when the stack says so."""
    definition.setdefault("securityDefinitions", {})["api_key"] = API_KEY_SECURITY
    required = {"Fn::If": [GATEWAY_KEY_CONDITION, [{"api_key": []}], {"Ref": "AWS::NoValue"}]}
    for path, operations in definition["paths"].items():
        for method, operation in operations.items():
            if method not in HTTP_METHODS or (path, method) in KEYLESS_ROUTES:
                continue
            operation["security"] = required


def _reserve_concurrency(template: Template, logical_id: str, properties: dict[str, Any]) -> None:
    """A <Function>ReservedConcurrency parameter, applied unless it is -1 (UNRESERVED)."""
    parameter = f"{logical_id}ReservedConcurrency"
    condition = f"{logical_id}HasReservedConcurrency"
    template["Parameters"][parameter] = {
        "Type": "Number",
        "Default": RESERVED_CONCURRENCY.get(logical_id, DEFAULT_RESERVED_CONCURRENCY),
        "MinValue": UNRESERVED,
        "Description": f"Reserved concurrency of {logical_id}; -1: unreserved.",
    }
    template.setdefault("Conditions", {})[condition] = {
        "Fn::Not": [{"Fn::Equals": [{"Ref": parameter}, str(UNRESERVED)]}]
    }
    reserved = {"Fn::If": [condition, {"Ref": parameter}, {"Ref": "AWS::NoValue"}]}
    properties["ReservedConcurrentExecutions"] = reserved
    for event in properties.get("Events", {}).values():
        if event["Type"] == "SQS":
            event["Properties"]["ScalingConfig"] = {
                "Fn::If": [
                    condition,
                    {"MaximumConcurrency": {"Ref": parameter}},
                    {"Ref": "AWS::NoValue"},
                ]
            }


def _add_sections(template: Template, resources: Template) -> None:
    if "Description" in resources:
        template["Description"] = resources["Description"]
    for section in ("Parameters", "Rules", "Conditions", "Resources", "Outputs"):
        ours = resources.get(section, {})
        theirs = template.setdefault(section, {})
        if clash := sorted(set(ours) & set(theirs)):
            raise WiringError(f"{section} defined by both Chalice and resources.yaml: {clash}")
        theirs.update(ours)
    template["Parameters"]["Stage"]["Default"] = "dev"


def _public_api_url(template: Template, function_id: str) -> dict[str, str]:
    """Chalice's EndpointURL without its trailing slash, for a function the API does not name."""
    api = template["Resources"].get(REST_API)
    endpoint = template.get("Outputs", {}).get("EndpointURL", {}).get("Value")
    url = endpoint.get("Fn::Sub") if isinstance(endpoint, dict) else None
    if api is None or not isinstance(url, str) or f"${{{REST_API}}}" not in url:
        raise WiringError(f"{function_id} links to the API, but Chalice wrote no URL of it")
    definition = json.dumps(api)
    if f'"{function_id}"' in definition or f"${{{function_id}." in definition:
        raise WiringError(f"{function_id} serves the API, so it cannot know the API's URL (cycle)")
    return {"Fn::Sub": url.rstrip("/")}


def _wire_function(template: Template, logical_id: str, properties: dict[str, Any]) -> None:
    """Runtime, arm64, tracing (the ``Tracing`` parameter), our resources in the environment,
    and a log group it owns."""
    properties["Runtime"] = RUNTIME
    properties["Architectures"] = [ARCHITECTURE]
    properties["Tracing"] = {"Ref": "Tracing"}
    variables = properties.setdefault("Environment", {}).setdefault("Variables", {})
    variables.update(ENVIRONMENT)
    log_group = f"{logical_id}LogGroup"
    template["Resources"][log_group] = {
        "Type": "AWS::Logs::LogGroup",
        "Properties": {
            # Named from the stage, not the function: the role can then be scoped to it without a
            # Function -> Role -> LogGroup -> Function cycle.
            "LogGroupName": {"Fn::Sub": f"/aws/lambda/otc-${{Stage}}/{logical_id}"},
            "RetentionInDays": LOG_RETENTION_DAYS,
        },
    }
    properties["LoggingConfig"] = {"LogGroup": {"Ref": log_group}}


def _wire_event(site: _Site, event: Event) -> Event:
    wire = _EVENT_WIRING.get(event["Type"])
    if wire is None:
        raise WiringError(f"no wiring for {event['Type']} triggers; teach infra/wiring/merge.py")
    return wire(site, event)


def _wire_sqs(site: _Site, event: Event) -> Event:
    """Chalice's queue *name* -> our queue (with its DLQ), and partial batch responses."""
    queue = _queue_logical_id(event["Properties"]["Queue"])
    if queue not in site.template["Resources"]:
        raise WiringError(f"app.py consumes a queue infra/resources.yaml lacks: {queue}")
    properties = {**event["Properties"], "Queue": get_att(queue)}
    properties["FunctionResponseTypes"] = PARTIAL_BATCH
    return {"Type": "SQS", "Properties": properties}


def _queue_logical_id(queue: Any) -> str:
    """The last ARN segment is the queue name (Chalice writes ``Fn::Sub`` for names, ARNs as-is)."""
    arn = queue.get("Fn::Sub") if isinstance(queue, dict) else queue
    if not isinstance(arn, str):
        raise WiringError(f"cannot read a queue name from {queue!r}")
    return queue_logical_id(arn.rsplit(":", 1)[-1])


def _wire_dynamodb(site: _Site, event: Event) -> Event:
    """The placeholder -> the table's stream, filtered to the items the consumer takes
    (infra/topology.py), with retries and a DLQ."""
    properties = dict(event["Properties"])
    if properties["Stream"] != site.stream_placeholder:
        raise WiringError(f"unknown stream {properties['Stream']!r}; use app.TABLE_STREAM")
    wiring = next(
        (
            w
            for name, w in STREAM_CONSUMERS.items()
            if function_logical_id(name) == site.function_id
        ),
        None,
    )
    if wiring is None:
        raise WiringError(f"{site.function_id} reads the stream; add it to STREAM_CONSUMERS")
    properties.update(
        Stream=get_att(TABLE, "StreamArn"),
        FunctionResponseTypes=PARTIAL_BATCH,
        BisectBatchOnFunctionError=True,
        MaximumRetryAttempts=STREAM_MAX_RETRY_ATTEMPTS,
        DestinationConfig={"OnFailure": {"Destination": get_att(wiring.failure_queue)}},
        FilterCriteria={"Filters": [{"Pattern": json.dumps(wiring.pattern)}]},
    )
    return {"Type": "DynamoDB", "Properties": properties}


def _wire_schedule(site: _Site, event: Event) -> Event:
    """EventBridge Scheduler rather than a rule on the default bus, keeping the app's expression.

    SAM names a schedule after the function and event alone; dev and prod stacks in one account
    would then collide in the default schedule group, so the name carries the stage. Chalice
    gives each handler its own function with one trigger, so the function id is unique. The
    function gets a "Scheduled Event" envelope (SCHEDULED_EVENT), as Chalice's handlers expect.
    A cron schedule in SCHEDULE_TIME_ZONES fires at its wall-clock time in that zone (Scheduler
    follows daylight saving time), not in UTC.
    """
    properties: dict[str, Any] = {
        "ScheduleExpression": event["Properties"]["Schedule"],
        "Name": {"Fn::Sub": f"otc-${{Stage}}-{site.function_id}"},
        "FlexibleTimeWindow": {"Mode": "OFF"},
        "Input": {"Fn::Sub": SCHEDULED_EVENT},
        "RetryPolicy": dict(SCHEDULE_RETRY_POLICY),
        "DeadLetterConfig": {"Arn": get_att(SCHEDULE_DLQ)},
    }
    if (time_zone := SCHEDULE_TIME_ZONES.get(site.function_id)) is not None:
        properties["ScheduleExpressionTimezone"] = time_zone
    return {"Type": "ScheduleV2", "Properties": properties}


def _wire_bus_rule(_site: _Site, event: Event) -> Event:
    """Rules Chalice writes for the default bus listen on ours instead (chalice#1755)."""
    properties = {**event["Properties"], "EventBusName": get_att(BUS, "Name")}
    return {"Type": event["Type"], "Properties": properties}


def _as_is(_site: _Site, event: Event) -> Event:
    return event


_EVENT_WIRING: dict[str, Callable[[_Site, Event], Event]] = {
    "SQS": _wire_sqs,
    "DynamoDB": _wire_dynamodb,
    "Schedule": _wire_schedule,
    "CloudWatchEvent": _wire_bus_rule,
    "EventBridgeRule": _wire_bus_rule,
    "SNS": _as_is,  # push: needs no permission in the function's role
}
