"""The format a report GET answers: ``format`` first, else the Accept header's best range."""

from __future__ import annotations

import pytest

from shared.http import negotiation
from shared.http.problems import Problem

XLSX = negotiation.XLSX_TYPE


@pytest.mark.parametrize(
    ("format_", "accept", "chosen"),
    [
        (None, None, "json"),
        (None, "", "json"),
        (None, "*/*", "json"),
        (None, "text/csv", "csv"),
        (None, "TEXT/CSV; charset=utf-8", "csv"),
        (None, "text/*", "csv"),
        (None, XLSX, "xlsx"),
        (None, f"application/json;q=0.5, {XLSX}", "xlsx"),
        (None, f"text/csv, {XLSX}", "csv"),  # equal weights: the first named
        (None, "text/html,application/xhtml+xml,*/*;q=0.8", "json"),  # a browser
        (None, "text/csv;q=0, application/json", "json"),
        (None, "text/csv;q=oops, */*;q=0.1", "json"),  # an unreadable weight refuses its range
        ("xlsx", "application/json", "xlsx"),  # format wins
        ("csv", "application/pdf", "csv"),
    ],
)
def test_the_format_asked_for(format_: str | None, accept: str | None, chosen: str) -> None:
    assert negotiation.chosen(format_, accept) == chosen


@pytest.mark.parametrize("accept", ["application/pdf", "text/csv;q=0", "image/*", ",,;;"])
def test_an_accept_that_names_nothing_answerable_is_a_406(accept: str) -> None:
    with pytest.raises(Problem) as refused:
        negotiation.chosen(None, accept)
    assert (refused.value.status, refused.value.kind) == (406, "not-acceptable")
