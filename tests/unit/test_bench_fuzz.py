"""The fuzzing benchmark's table: examples per operation, totals, failures per kind."""

from __future__ import annotations

from bench.fuzz import FAILURE_KINDS, TARGET, Run, statuses_of, table


def test_the_table_counts_examples_per_operation_and_marks_those_below_the_target():
    # Given: one operation fuzzed enough, one with too little input to reach the target
    run = Run(
        examples={
            "POST /orders": {"stateless": 130, "stateful": 40},
            "GET /health": {"stateless": 5},
        },
        failures={kind: 0 for kind in FAILURE_KINDS} | {"5xx": 2},
        statuses={"201": 40, "422": 120},
        failed=["5xx: 500 admin stateless positive: curl -X GET http://127.0.0.1:1/health\n  more"],
        sent=175,
        rejected=120,
        tests_passed=60,
        tests_failed=1,
        seconds=42.0,
    )

    # When
    text = table(run)

    # Then
    assert "| POST /orders | 130 | 40 | 170 |" in text
    assert "| GET /health * | 5 | 0 | 5 |" in text
    assert "| **All 2 operations** | 135 | 40 | 175 |" in text
    assert "5xx 2, schema mismatch (status) 0" in text
    assert f"fewer than {TARGET} examples" in text
    assert "examples (the counts were set lower" in text
    assert text.endswith(
        "- 5xx: 500 admin stateless positive: curl -X GET http://127.0.0.1:1/health"
    )
    assert "1 failed" in text
    assert "Answers by status: 201 40, 422 120." in text


def test_answers_are_totalled_by_status_over_operations_and_phases():
    # Given / When
    totals = statuses_of(
        {"POST /orders": {"stateless 201": 2, "stateful 201": 1}, "GET /x": {"stateless 404": 4}}
    )

    # Then
    assert totals == {"201": 3, "404": 4}
