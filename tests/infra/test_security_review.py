"""Security review (issue 8), the parts read from the code and the packaged template.

Checked here:
- webhook signatures and signed links are compared in constant time (read from the source);
- every object written to the documents bucket goes through ``shared/adapters/documents.write``,
  and the bucket refuses requests not made over TLS;
- every function role has a policy of its own.

Checked elsewhere, not repeated here:
- the documents bucket is SSE-KMS with the stack's key, versioned, and blocks public access on all
  four settings: tests/infra/test_template.py
  ``test_documents_bucket_is_kms_encrypted_versioned_and_private``;
- no identity policy allows ``*`` or ``service:*``, and ``*`` resources appear only with the X-Ray
  actions AWS accepts on ``*`` alone (``xray:PutTraceSegments``, ``xray:PutTelemetryRecords``;
  the template has no ``cloudwatch:PutMetricData``, metrics leave as EMF log lines): tests/infra/
  test_iam.py ``test_no_identity_policy_allows_every_action_of_a_service`` and
  ``test_no_identity_policy_allows_every_resource_but_for_xray``; roles are one per function with
  no managed policy: ``test_each_function_has_a_role_of_its_own_and_no_managed_policy``;
- secrets and personal data never reach the logs: tests/functional/test_no_pii_in_logs.py;
- signature and link semantics (wrong secret, altered body, stale timestamp, other path, expiry):
  tests/unit/test_webhook_signing.py and tests/unit/test_signed_links.py;
- keys stored hashed, objects encrypted under moto, input size limits: tests/functional/
  test_security_review.py.
"""

from __future__ import annotations

import ast
import inspect
import json
import re
import textwrap
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from functions.payments import receive_webhook
from functions.reporting import dashboard
from shared.domain import signed_links, webhooks
from tests.infra.cfn import FUNCTION, as_list, of_type, target

pytestmark = pytest.mark.infra

Template = dict[str, Any]

ROOT = Path(__file__).resolve().parents[2]
# Names that hold a signature, or what one is checked against, in the verifiers.
SIGNATURE_NAME = re.compile(r"^_?(signature|candidates?|expected|token|digest|mac)$")
CONSTANT_TIME = {"compare_digest"}
EQUALITY = (ast.Eq, ast.NotEq, ast.Is, ast.IsNot, ast.In, ast.NotIn)
# The verifiers of what others sign: Stripe and generic gateway webhooks, dashboard links.
# (Partner webhooks are signed by us and verified by the partner: we hold no verifier of theirs.)
# signed_links.verify and verify_grant both compare through _check
VERIFIERS: list[Callable[..., Any]] = [webhooks.verify, signed_links._check]
# The S3 calls that create or overwrite an object.
S3_WRITES = {"put_object", "upload_file", "upload_fileobj", "copy_object", "upload_part"}


def _tree(function: Callable[..., Any]) -> ast.AST:
    return ast.parse(textwrap.dedent(inspect.getsource(function)))


def _called(node: ast.AST) -> Iterator[str]:
    """The name of every function called in ``node`` (``a.b.c()`` gives ``c``)."""
    for call in ast.walk(node):
        if isinstance(call, ast.Call):
            func = call.func
            if isinstance(func, ast.Attribute):
                yield func.attr
            elif isinstance(func, ast.Name):
                yield func.id


def _qualified_calls(node: ast.AST) -> Iterator[str]:
    """``module.function`` of every call through a module attribute (``a.b()`` gives ``a.b``)."""
    for call in ast.walk(node):
        if (
            isinstance(call, ast.Call)
            and isinstance(call.func, ast.Attribute)
            and isinstance(call.func.value, ast.Name)
        ):
            yield f"{call.func.value.id}.{call.func.attr}"


def _mentions_a_signature(node: ast.AST) -> bool:
    return any(
        (isinstance(inner, ast.Name) and SIGNATURE_NAME.match(inner.id))
        or (
            isinstance(inner, ast.Call)
            and isinstance(inner.func, ast.Name)
            and SIGNATURE_NAME.match(inner.func.id)
        )
        for inner in ast.walk(node)
    )


def _equality_on_signatures(node: ast.AST) -> list[str]:
    return [
        ast.unparse(compare)
        for compare in ast.walk(node)
        if isinstance(compare, ast.Compare)
        and any(isinstance(op, EQUALITY) for op in compare.ops)
        and any(_mentions_a_signature(side) for side in [compare.left, *compare.comparators])
    ]


def _source_modules() -> Iterator[tuple[str, ast.AST]]:
    """(path, tree) of every module of the deployed code."""
    paths = [ROOT / "app.py", *(ROOT / "functions").rglob("*.py"), *(ROOT / "shared").rglob("*.py")]
    for path in paths:
        yield str(path.relative_to(ROOT)), ast.parse(path.read_text(), filename=str(path))


def _imports_hmac(tree: ast.AST) -> bool:
    return any(
        (isinstance(node, ast.Import) and any(a.name == "hmac" for a in node.names))
        or (isinstance(node, ast.ImportFrom) and node.module == "hmac")
        for node in ast.walk(tree)
    )


# --- constant-time comparisons -----------------------------------------------------------------


@pytest.mark.parametrize("verifier", VERIFIERS, ids=lambda v: f"{v.__module__}.{v.__name__}")
def test_verifiers_compare_signatures_in_constant_time_and_never_with_equality(
    verifier: Callable[..., Any],
) -> None:
    # Given the source of a verifier of a signature
    tree = _tree(verifier)

    # When its calls and comparisons are read
    calls = set(_called(tree))
    equalities = _equality_on_signatures(tree)

    # Then it compares with compare_digest, and no signature meets == or != (which exit early)
    assert calls & CONSTANT_TIME, f"{verifier.__qualname__} calls no compare_digest"
    assert equalities == []


def test_every_module_computing_an_hmac_is_a_reviewed_verifier() -> None:
    # Given every module of the deployed code
    reviewed = {inspect.getsourcefile(verifier) for verifier in VERIFIERS}

    # When the ones computing an HMAC are picked out
    hmac_modules = {str(ROOT / path) for path, tree in _source_modules() if _imports_hmac(tree)}

    # Then they are the modules whose verifiers the test above reads (a new one must join it)
    assert hmac_modules == reviewed


@pytest.mark.parametrize(
    "receiver", [receive_webhook.receive_stripe, receive_webhook.receive_generic]
)
def test_gateway_webhooks_are_verified_by_the_constant_time_verifier(
    receiver: Callable[..., Any],
) -> None:
    # Given a gateway webhook receiver and the helper checking its signature
    receiver_calls = set(_called(_tree(receiver)))
    helper = _tree(receive_webhook._verify)

    # Then the receiver verifies through the helper, which calls webhooks.verify
    # and compares no signature itself
    assert "_verify" in receiver_calls
    assert "webhooks.verify" in set(_qualified_calls(helper))
    assert _equality_on_signatures(helper) == []


def test_dashboard_links_are_verified_by_the_constant_time_verifier() -> None:
    # Given the check of a dashboard link's token
    tree = _tree(dashboard.check_token)

    # Then it goes through signed_links.verify and compares no token itself
    assert "signed_links.verify" in set(_qualified_calls(tree))
    assert _equality_on_signatures(tree) == []


# --- documents bucket ---------------------------------------------------------------------------


def test_only_the_documents_adapter_writes_objects() -> None:
    # Given every module of the deployed code
    writers = {
        path
        for path, tree in _source_modules()
        if set(_called(tree)) & S3_WRITES
        or any(isinstance(n, ast.Constant) and n.value in S3_WRITES for n in ast.walk(tree))
    }

    # Then only the adapter, whose objects take the bucket's SSE-KMS default, writes to S3
    assert writers == {"shared/adapters/documents.py"}


@pytest.mark.parametrize("bucket_id", ["DocumentsBucket", "LakeBucket"])
def test_every_bucket_refuses_requests_not_made_over_tls(
    template: Template, bucket_id: str
) -> None:
    # Given a bucket and the policies attached to it
    assert set(of_type(template, "AWS::S3::Bucket")) == {"DocumentsBucket", "LakeBucket"}
    policies = [
        policy["Properties"]["PolicyDocument"]
        for policy in of_type(template, "AWS::S3::BucketPolicy").values()
        if target(policy["Properties"]["Bucket"]) == bucket_id
    ]
    statements = [s for policy in policies for s in as_list(policy["Statement"])]

    # Then one denies every S3 action on the bucket and its objects without TLS
    bucket_arn = {"Fn::GetAtt": [bucket_id, "Arn"]}
    objects_arn = {"Fn::Sub": f"${{{bucket_id}.Arn}}/*"}
    assert any(
        statement["Effect"] == "Deny"
        and statement["Principal"] == "*"
        and as_list(statement["Action"]) == ["s3:*"]
        and bucket_arn in as_list(statement["Resource"])
        and objects_arn in as_list(statement["Resource"])
        and statement["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
        for statement in statements
    ), statements
    # and none allows anyone outside the account in
    assert not [s for s in statements if s["Effect"] == "Allow" and s.get("Principal") == "*"]


# --- IAM ----------------------------------------------------------------------------------------


def test_every_function_role_has_a_policy_with_statements(template: Template) -> None:
    # Given every function and the role it runs as
    functions = of_type(template, FUNCTION)

    # Then each role carries at least one inline policy, and each policy grants something
    assert functions
    for function_id, function in functions.items():
        role = template["Resources"][target(function["Properties"]["Role"])]
        policies = role["Properties"].get("Policies", [])
        assert policies, function_id
        for policy in policies:
            assert as_list(policy["PolicyDocument"]["Statement"]), (function_id, policy)


def test_the_gateways_own_answers_are_problem_json(template: Template) -> None:
    # Given the packaged REST API's definition
    body = template["Resources"]["RestAPI"]["Properties"]["DefinitionBody"]
    responses = body["x-amazon-apigateway-gateway-responses"]

    # Then an unknown route is a 404 (not the gateway's 403), and every answer of the gateway's
    # own is problem+json whose body, once API Gateway fills in its variables, is a problem
    assert responses["MISSING_AUTHENTICATION_TOKEN"]["statusCode"] == "404"
    # and a request without a key API Gateway knows (RequireGatewayApiKeys) is a 401, as the
    # app answers one without a valid X-Api-Key
    assert responses["INVALID_API_KEY"]["statusCode"] == "401"
    assert {"DEFAULT_4XX", "DEFAULT_5XX", "REQUEST_TOO_LARGE", "THROTTLED"} <= set(responses)
    for response_type, response in responses.items():
        header = response["responseParameters"]["gatewayresponse.header.Content-Type"]
        assert header == "'application/problem+json'", response_type
        filled = (
            response["responseTemplates"]["application/json"]
            .replace("$context.error.messageString", json.dumps("Missing Authentication Token"))
            .replace("$context.path", "/api/nowhere")
        )
        problem = json.loads(filled)
        assert problem["type"].startswith("https://") and problem["title"], response_type
        assert problem["detail"] == "Missing Authentication Token"
        if "statusCode" in response:
            assert problem["status"] == int(response["statusCode"]), response_type
        else:
            assert "status" not in problem, response_type
