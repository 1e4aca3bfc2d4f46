"""Cash application on a noisy corpus: how much is applied automatically, and how much wrongly.

``measure`` builds the seeded world of ``bench.remittance_corpus`` (about 200 customers and 600
open invoices) and ``count`` payments into it, runs ``matching.decide`` on each, and compares
every decision with the payment's truth:

- *auto-applied*: decisions the matcher applies without a clerk;
- *correct*: auto-applied, and the allocations are exactly what the payer meant;
- *wrong*: auto-applied, and the allocations differ from the truth, or the payment carried too
  little to be matched at all (its truth is the worklist): the figure that must stay 0;
- *worklist*: decisions left for a clerk (their candidates are the clerk's starting point).

The auto-applied rate is given over the payments that carry enough to be matched (the target:
95 % or more) and over all payments. Time is the wall time of ``decide`` alone, per payment,
in one process on one core.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from bench.remittance_corpus import Case, corpus
from shared.domain.matching import Decision, decide

DEFAULT_COUNT = 2000
DEFAULT_SEED = 7


@dataclass
class Tally:
    payments: int = 0
    matchable: int = 0
    auto: int = 0
    correct: int = 0
    wrong: int = 0

    @property
    def worklist(self) -> int:
        return self.payments - self.auto


@dataclass
class MatchReport:
    count: int
    seed: int
    customers: int
    invoices: int
    total: Tally
    seconds: float
    by_scenario: dict[str, Tally] = field(default_factory=dict)
    wrong_examples: list[str] = field(default_factory=list)

    @property
    def payments(self) -> int:
        return self.total.payments

    @property
    def matchable(self) -> int:
        return self.total.matchable

    @property
    def auto(self) -> int:
        return self.total.auto

    @property
    def wrong(self) -> int:
        return self.total.wrong

    @property
    def worklist(self) -> int:
        return self.total.worklist

    @property
    def auto_rate_matchable(self) -> float:
        """Matchable payments applied automatically and rightly, over all matchable payments."""
        return self.total.correct / self.matchable if self.matchable else 0.0

    @property
    def auto_rate_all(self) -> float:
        return self.auto / self.payments if self.payments else 0.0

    @property
    def ms_per_decision(self) -> float:
        return 1000 * self.seconds / self.payments if self.payments else 0.0


def measure(count: int = DEFAULT_COUNT, seed: int = DEFAULT_SEED) -> MatchReport:
    """Decide ``count`` payments of the corpus of ``seed`` and compare with their truth."""
    world, cases = corpus(count, seed)
    report = MatchReport(count, seed, len(world.customers), len(world.invoices), Tally(), 0.0)
    elapsed = 0.0
    for case in cases:
        started = time.perf_counter()
        decision = decide(case.payment, world.invoices, world.aliases)
        elapsed += time.perf_counter() - started
        _count(report, case, decision)
    report.seconds = elapsed
    return report


def _count(report: MatchReport, case: Case, decision: Decision) -> None:
    truth = case.truth
    allocated = tuple(sorted((p.invoice_id, p.amount, p.discount) for p in decision.allocations))
    right = decision.auto and truth.matchable and allocated == truth.allocations
    for tally in (report.total, report.by_scenario.setdefault(truth.scenario, Tally())):
        tally.payments += 1
        tally.matchable += truth.matchable
        tally.auto += decision.auto
        tally.correct += right
        tally.wrong += decision.auto and not right
    if decision.auto and not right and len(report.wrong_examples) < 10:
        report.wrong_examples.append(
            f"{truth.scenario}: {case.payment.remittance!r} -> {decision.explanation}"
        )


def table(report: MatchReport) -> str:
    """Markdown: the totals, then one row per scenario."""
    lines = [
        f"{report.payments} payments (seed {report.seed}) against {report.invoices} open "
        f"invoices of {report.customers} customers.",
        "",
        "| Payments | Matchable | Auto-applied | Auto rate (matchable) | Auto rate (all) "
        "| Wrong matches | Worklist | ms/decision |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|",
        f"| {report.payments} | {report.matchable} | {report.auto} "
        f"| {report.auto_rate_matchable:.1%} | {report.auto_rate_all:.1%} | {report.wrong} "
        f"| {report.worklist} | {report.ms_per_decision:.2f} |",
        "",
        "| Scenario | Payments | Matchable | Auto-applied | Correct | Wrong | Worklist |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for scenario, tally in sorted(report.by_scenario.items(), key=lambda item: -item[1].payments):
        lines.append(
            f"| {scenario} | {tally.payments} | {tally.matchable} | {tally.auto} "
            f"| {tally.correct} | {tally.wrong} | {tally.worklist} |"
        )
    return "\n".join(lines)


def main() -> None:
    report = measure()
    print(table(report))
    for example in report.wrong_examples:
        print(f"wrong: {example}")


if __name__ == "__main__":
    main()
