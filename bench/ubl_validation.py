"""UBL documents validated per second against the OASIS XSD, the CEN rules and the Peppol rules.

``tests/unit/validation.py`` is the validator the tests use: lxml for the XSD, Saxon (saxonche)
for the CEN EN 16931 XSLT and the Peppol BIS 3.0.19 rules compiled by SchXslt. Each document is
rendered once; the time is the validation only (parsing it for the three layers included), in one
process on one core. *Load* is what a test process pays once: loading the XSD and compiling both
stylesheets, with the Peppol rules vendored compiled (as the tests do) and, for comparison,
compiled from the schematron with SchXslt at load.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

from saxonche import PySaxonProcessor

from functions.invoicing.ubl import render_ubl
from tests.unit.invoice_samples import ubl_samples
from tests.unit.validation import SCHEMAS, Validator

ROUNDS = 5
SCHXSLT = SCHEMAS / "schxslt-1.10.1" / "xslt" / "2.0" / "pipeline-for-svrl.xsl"
PEPPOL_SCHEMATRON = SCHEMAS / "peppol-bis-3.0.19" / "PEPPOL-EN16931-UBL.sch"


@dataclass(frozen=True)
class Report:
    load_vendored_s: float
    load_compiling_s: float
    documents: int
    lines: int
    seconds: float
    fatal: int

    @property
    def per_second(self) -> float:
        return self.documents / self.seconds


def _compile_schematron() -> float:
    """Seconds to compile the Peppol schematron to XSLT and that XSLT to an executable."""
    started = time.perf_counter()
    with PySaxonProcessor(license=False) as saxon:
        compiler = saxon.new_xslt30_processor()
        pipeline = compiler.compile_stylesheet(stylesheet_file=str(SCHXSLT))
        xslt = pipeline.transform_to_string(source_file=str(PEPPOL_SCHEMATRON))
        assert xslt
        compiler.compile_stylesheet(stylesheet_text=xslt, base_uri=Path(PEPPOL_SCHEMATRON).as_uri())
    return time.perf_counter() - started


def measure(rounds: int = ROUNDS) -> Report:
    started = time.perf_counter()
    validator = Validator()
    load_vendored = time.perf_counter() - started
    load_compiling = load_vendored + _compile_schematron()
    samples = list(ubl_samples().values())
    documents = [render_ubl(invoice) for invoice in samples]
    validator.fatal(documents[0])  # the first run warms Saxon up
    fatal = 0
    started = time.perf_counter()
    for _ in range(rounds):
        for xml in documents:
            fatal += len(validator.fatal(xml))
    seconds = time.perf_counter() - started
    return Report(
        load_vendored_s=load_vendored,
        load_compiling_s=load_compiling,
        documents=rounds * len(documents),
        lines=sum(len(invoice.lines) for invoice in samples),
        seconds=seconds,
        fatal=fatal,
    )


def table(report: Report) -> str:
    return "\n".join(
        [
            f"{report.documents} documents ({report.documents // ROUNDS} samples, "
            f"{report.lines} lines in all, x {ROUNDS} rounds).",
            "",
            "| Documents/s | ms/document | Fatal failures | Load, Peppol rules vendored "
            "compiled | Load, compiled with SchXslt |",
            "|---:|---:|---:|---:|---:|",
            f"| {report.per_second:.1f} | {1000 * report.seconds / report.documents:.1f} "
            f"| {report.fatal} | {report.load_vendored_s:.2f} s "
            f"| {report.load_compiling_s:.2f} s |",
        ]
    )


def main() -> None:
    print(table(measure()))


if __name__ == "__main__":
    main()
