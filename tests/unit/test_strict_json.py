"""Strict JSON reading: one document per body, whatever parser reads it next."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shared import strict_json
from shared.payloads import is_json

JSON_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda children: st.lists(children) | st.dictionaries(st.text(), children),
    max_leaves=20,
)


@given(JSON_VALUES)
def test_what_json_writes_reads_back_the_same(value):
    # Given a document json.dumps writes (finite numbers, any text)
    raw = json.dumps(value).encode()

    # When / Then
    assert strict_json.loads(raw) == value


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        (b'{"a": 1, "a": 2}', "repeats the key 'a'"),
        (b'{"a": {"b": 1, "b": 1}}', "repeats the key 'b'"),
        (b'[{"x": [], "x": []}]', "repeats the key 'x'"),
        (b"[NaN]", "NaN is not a JSON number"),
        (b'{"a": -Infinity}', "-Infinity is not a JSON number"),
        (b"[1e400]", "beyond the range"),
        (b'"\\udc00"', "lone UTF-16 surrogate"),
        (b'{"\\ud800": 1}', "lone UTF-16 surrogate"),
        (b"[" * 33 + b"]" * 33, "deeper than 32"),
        (b"[" * 100_000 + b"]" * 100_000, "deeper than 32"),
        (b'{"a": "\xff"}', "not UTF-8"),
        ('{"a": 1}'.encode("utf-16"), "not UTF-8"),
        (b"1" * 5000, "not JSON"),
        (b"{not json", "not JSON"),
        (b"", "not JSON"),
    ],
)
def test_ambiguous_or_unbounded_json_is_refused(raw, reason):
    # When / Then
    with pytest.raises(strict_json.StrictJsonError, match=reason):
        strict_json.loads(raw)


def test_nesting_up_to_the_limit_and_paired_surrogates_are_read():
    # Given
    deepest = b"[" * strict_json.MAX_DEPTH + b"]" * strict_json.MAX_DEPTH

    # When / Then
    assert strict_json.loads(deepest)
    assert strict_json.loads(b'"\\ud83d\\ude00"') == "\U0001f600"


@pytest.mark.parametrize(
    ("content_type", "json_or_not"),
    [
        ("application/json", True),
        ("application/json; charset=utf-8", True),
        ("Application/JSON; Charset=UTF-8", True),
        ("application/problem+json", False),
        (None, False),
        ("", False),
        ("text/plain", False),
        ("application/x-www-form-urlencoded", False),
        ("*/*", False),
        ("application/json, text/plain", False),
        ("application/jsonx", False),
        ("application/json; charset=iso-8859-1", False),
    ],
)
def test_a_body_is_json_when_its_content_type_says_so(content_type, json_or_not):
    assert is_json(content_type) is json_or_not
