"""bench/lake.py: the books it writes report through the lake's SQL, and it prices their scan."""

from __future__ import annotations

from bench import lake


def test_the_lake_bench_times_and_prices_aging_and_kpis_at_a_small_size() -> None:
    # When the bench runs at 20,000 journal rows
    (run,) = lake.measure((20_000,), repeat=1)
    # Then both queries ran, read part of the lake, and cost Athena's minimum
    assert run.invoices == 3_125
    assert 0 < run.aging_scanned < run.lake_bytes
    assert 0 < run.kpi_scanned < run.lake_bytes
    assert run.aging_seconds > 0 and run.kpi_seconds > 0
    assert lake.LakeRun.usd(run.aging_scanned) == 10 * 10**6 / 10**12 * 5
    assert "| 20,000 | 3,125 |" in lake.table([run], [])
