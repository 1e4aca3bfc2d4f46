"""The portal's case form: a contact opens a case from the portal page (a form POST, the link's
token its credential) and reads the threads of the customer's cases there.

The form's fields are those of POST /cases (a dispute from the portal names the whole amount,
not lines); they are validated as the JSON body would be, so a refusal reads the same.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import parse_qs

from functions.cases.open_case import CaseRequest, open_case
from shared.http import body, problems
from shared.http.auth import Principal
from shared.store import cases as store

FORM_TYPE = "application/x-www-form-urlencoded"
FIELDS = frozenset(
    {"kind", "subject", "message", "priority", "request_type", "invoice_id", "reason", "amount"}
)
SHOWN = 10  # the newest cases shown on the page


def open_from_portal(
    customer_id: str,
    raw: bytes | str | None,
    content_type: str | None,
    principal: Principal,
    contact: str,
) -> dict[str, Any]:
    """The case the form opens (415 for a body other than a form, 422 for bad fields)."""
    if not (content_type or "").split(";")[0].strip().lower() == FORM_TYPE:
        raise problems.unsupported_media_type(content_type)
    text = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else raw or ""
    try:
        parsed = parse_qs(text, max_num_fields=len(FIELDS) + 1, strict_parsing=bool(text))
    except ValueError:
        raise problems.unprocessable("invalid-case", "the form could not be read") from None
    fields: dict[str, Any] = {
        name: values[-1] for name, values in parsed.items() if values and values[-1].strip()
    }
    unknown = set(fields) - FIELDS
    if unknown:
        raise problems.unprocessable(
            "invalid-case",
            "the form has fields it does not take",
            errors=[{"pointer": f"#/{name}", "detail": "not a field"} for name in sorted(unknown)],
        )
    request = body.parse(
        json.dumps({**fields, "customer_id": customer_id}).encode(),
        CaseRequest,
        content_type="application/json",
    )
    return open_case(request, principal, channel="portal", contact=contact)


def customer_cases(customer_id: str) -> list[dict[str, Any]]:
    """The customer's newest cases, each with its thread, for the portal page."""
    return [
        {
            **store.public(case),
            "thread": [store.public(message) for message in store.thread(case["case_id"])],
        }
        for case in store.by_customer(customer_id, SHOWN)
    ]
