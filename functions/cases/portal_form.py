"""The portal's case form: a contact opens a case from the portal page (a form POST, the link's
token its credential) and reads the threads of the customer's cases there.

The form's fields are those of POST /cases; a dispute names its amount, and ``line_no`` when it
disputes one line of the invoice (the invoice page's form: the amount is then that line's). They
are validated as the JSON body would be, so a refusal reads the same.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from functions.cases.open_case import CaseRequest, open_case
from shared import payloads
from shared.domain.access import Principal
from shared.store import cases as store

FIELDS = frozenset(
    {
        "kind",
        "subject",
        "message",
        "priority",
        "request_type",
        "invoice_id",
        "reason",
        "amount",
        "line_no",
    }
)
LINE_NO_DIGITS = 6  # longer is refused by the model as it stands (and int() of it is costly)
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
    fields = payloads.form_fields(form, FIELDS, "invalid-case")
    request = payloads.parse(
        json.dumps({**_one_line(fields), "customer_id": customer_id}).encode(),
        CaseRequest,
        content_type=payloads.JSON_MEDIA_TYPE,
    )
    return open_case(request, principal, channel="portal", contact=contact)


def _one_line(fields: dict[str, str]) -> dict[str, Any]:
    """A disputed ``line_no`` (with the amount) as the one line of the body's ``lines``."""
    if "line_no" not in fields:
        return fields
    rest = {name: value for name, value in fields.items() if name not in ("line_no", "amount")}
    line_no = fields["line_no"]
    number = line_no.isascii() and line_no.isdigit() and len(line_no) <= LINE_NO_DIGITS
    line = {
        "line_no": int(line_no) if number else line_no,  # anything else: a 422 naming it
        "amount": fields.get("amount", ""),
    }
    return {**rest, "lines": [line]}


def customer_cases(customer_id: str) -> list[dict[str, Any]]:
    """The customer's newest cases, each with its thread, for the portal page."""
    return [
        {
            **store.public(case),
            "thread": [store.public(message) for message in store.thread(case["case_id"])],
        }
        for case in store.by_customer(customer_id, SHOWN)
    ]
