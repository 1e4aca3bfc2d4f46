"""The portal's case form: a contact opens a case from the portal page (a form POST, the link's
token its credential) and reads the threads of the customer's cases there.

The form's fields are those of POST /cases (a dispute from the portal names the whole amount,
not lines); they are validated as the JSON body would be, so a refusal reads the same.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from functions.cases.open_case import CaseRequest, open_case
from shared import errors, payloads
from shared.domain.access import Principal
from shared.store import cases as store

FIELDS = frozenset(
    {"kind", "subject", "message", "priority", "request_type", "invoice_id", "reason", "amount"}
)
MAX_FIELDS = len(FIELDS) + 1  # a form with more does not read
SHOWN = 10  # the newest cases shown on the page


def open_from_portal(
    customer_id: str,
    form: Mapping[str, list[str]] | None,
    principal: Principal,
    contact: str,
) -> dict[str, Any]:
    """The case the form's fields open (None: a form that did not read); Unprocessable for bad
    fields."""
    if form is None:
        raise errors.Unprocessable("invalid-case", "the form could not be read")
    fields: dict[str, Any] = {
        name: values[-1] for name, values in form.items() if values and values[-1].strip()
    }
    unknown = set(fields) - FIELDS
    if unknown:
        raise errors.Unprocessable(
            "invalid-case",
            "the form has fields it does not take",
            [{"pointer": f"#/{name}", "detail": "not a field"} for name in sorted(unknown)],
        )
    request = payloads.parse(
        json.dumps({**fields, "customer_id": customer_id}).encode(),
        CaseRequest,
        content_type=payloads.JSON_MEDIA_TYPE,
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
