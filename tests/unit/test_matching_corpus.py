"""The matcher on a seeded, noisy corpus: nothing applied wrongly, nearly all matchable applied."""

import pytest

from bench import cash_matching
from bench.remittance_corpus import corpus


@pytest.fixture(scope="module")
def report() -> cash_matching.MatchReport:
    return cash_matching.measure(count=300, seed=11)


def test_no_payment_is_applied_wrongly(report):
    assert report.wrong == 0, "\n".join(report.wrong_examples)


def test_at_least_95_percent_of_matchable_payments_are_applied_automatically(report):
    assert report.auto_rate_matchable >= 0.95


def test_the_corpus_holds_what_must_go_to_the_worklist(report):
    # Given: unmatchable payments (no information, ambiguity, adversarial references)
    unmatchable = report.payments - report.matchable

    # Then: they exist, and all of them are on the worklist
    assert unmatchable >= 20
    assert report.worklist >= unmatchable
    assert report.by_scenario["no usable information"].auto == 0


def test_the_corpus_is_the_same_for_the_same_seed():
    # When
    first_world, first = corpus(50, seed=3)
    second_world, second = corpus(50, seed=3)

    # Then
    assert first_world == second_world
    assert first == second


def test_the_table_prints_the_figures(report):
    # When
    table = cash_matching.table(report)

    # Then
    assert "| Auto rate (matchable) |" in table
    assert f"| {report.payments} | {report.matchable} | {report.auto} " in table
    assert "| another customer's invoice |" in table
