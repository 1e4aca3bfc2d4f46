"""What the PDFs' Unicode fonts cost: the Lambda zip's size, and rendering time by script.

The zip is built as ``make package`` builds it (``infra.package.build``, arm64 wheels) and read
entry by entry: the bytes the fonts bring (the committed faces, the fallback font packages and
HarfBuzz, which shapes right-to-left text) are set beside the zip without them, in the same build.
Rendering is timed in this process, one core, for an invoice in Latin script only (the house face
alone) and one whose buyer and items are named in Cyrillic, Greek, Arabic, Hebrew and Chinese
(every fallback loaded and shaped); the first render of each, which parses its fonts, is
reported apart, as a cold Lambda pays it once.

deliver_invoices' cold import (its handler's imports, as the cold-import section times them) is
timed against the floor in fresh interpreters twice, round-robin: as built, and with the font
packages and HarfBuzz made unimportable (a build without them). The fallbacks and the shaper load
at the first render that needs them, so the two agree; a cold start that imported them would
fail the second variant instead of timing it.
"""

from __future__ import annotations

import statistics
import tempfile
import time
import zipfile
from dataclasses import dataclass
from pathlib import Path

from bench import cold_import
from functions.invoicing.pdf import render_pdf
from shared.domain.invoice import Invoice
from tests.unit import invoice_samples

ROUNDS = 10
FONT_SUFFIXES = (".ttf", ".otf", ".ttc")
FONT_PACKAGES = ("fontpkg_noto_sans_arabic/", "noto_cjk_sans_jp_regular/", "uharfbuzz/")
FONT_MODULES = tuple(package.rstrip("/") for package in FONT_PACKAGES)
DELIVERY = "deliver_invoices"
COLD_REPEAT = 7
UNICODE_BUYER = "ООО «Ромашка» شركة الأمل שלום בע״מ 北京贸易有限公司"  # noqa: RUF001


@dataclass(frozen=True)
class ZipSize:
    total: int
    fonts: int

    @property
    def without_fonts(self) -> int:
        return self.total - self.fonts


@dataclass(frozen=True)
class Rendering:
    script: str
    first_ms: float
    median_ms: float
    pdf_bytes: int


@dataclass(frozen=True)
class ColdImport:
    """Median ms of the floor and of deliver_invoices' cold import, with and without fonts."""

    floor_ms: float
    with_fonts_ms: float
    without_fonts_ms: float


@dataclass(frozen=True)
class Report:
    size: ZipSize
    renderings: tuple[Rendering, ...]
    cold: ColdImport


def cold_imports(repeat: int = COLD_REPEAT) -> ColdImport:
    """deliver_invoices' cold import against the floor, as built and without the fonts."""
    [entry] = [e for e in cold_import.discover_entry_points() if e.name == DELIVERY]
    hidden = f"import sys; sys.modules.update(dict.fromkeys({FONT_MODULES!r}))"
    targets = {
        "floor": (cold_import.FLOOR_STATEMENTS, cold_import.lambda_environment()),
        "with": (entry.statements, cold_import.lambda_environment(DELIVERY)),
        "without": ((hidden, *entry.statements), cold_import.lambda_environment(DELIVERY)),
    }
    samples: dict[str, list[float]] = {name: [] for name in targets}
    for round_number in range(repeat + 1):  # the first round warms the caches up
        for name, (statements, env) in targets.items():
            elapsed = cold_import.time_once(statements, env)
            if round_number:
                samples[name].append(elapsed)
    median = {name: statistics.median(times) for name, times in samples.items()}
    return ColdImport(median["floor"], median["with"], median["without"])


def zip_size(archive: Path) -> ZipSize:
    """The zip's bytes, and the compressed bytes of its fonts and text shaping."""
    with zipfile.ZipFile(archive) as opened:
        entries = opened.infolist()
    fonts = sum(
        entry.compress_size
        for entry in entries
        if entry.filename.lower().endswith(FONT_SUFFIXES)
        or any(package in entry.filename for package in FONT_PACKAGES)
    )
    return ZipSize(total=archive.stat().st_size, fonts=fonts)


def _unicode_invoice() -> Invoice:
    invoice = invoice_samples.all_samples()["domestic"]
    line = invoice.lines[0].model_copy(update={"name": "Δοχείο αλουμινίου"})
    return invoice.model_copy(
        update={"buyer": invoice_samples.buyer(UNICODE_BUYER), "lines": (line, *invoice.lines[1:])}
    )


def rendering(script: str, invoice: Invoice, rounds: int = ROUNDS) -> Rendering:
    started = time.perf_counter()
    document = render_pdf(invoice)
    first = time.perf_counter() - started
    times = []
    for _ in range(rounds):
        started = time.perf_counter()
        render_pdf(invoice)
        times.append(time.perf_counter() - started)
    return Rendering(script, 1000 * first, 1000 * statistics.median(times), len(document))


def measure(rounds: int = ROUNDS) -> Report:
    from infra.package import build

    with tempfile.TemporaryDirectory(prefix="otc-bench-package-") as out:
        size = zip_size(build(Path(out)).code)
    latin = invoice_samples.all_samples()["domestic"]
    return Report(
        size=size,
        renderings=(
            rendering("Latin only", latin, rounds),
            rendering("Cyrillic, Greek, Arabic, Hebrew, Chinese", _unicode_invoice(), rounds),
        ),
        cold=cold_imports(),
    )


def _mb(size: int) -> str:
    return f"{size / 1_000_000:.1f} MB"


def table(report: Report) -> str:
    size = report.size
    lines = [
        "| Lambda zip | without the fonts and shaping | the fonts and shaping | ratio |",
        "|---:|---:|---:|---:|",
        f"| {_mb(size.total)} | {_mb(size.without_fonts)} | {_mb(size.fonts)} "
        f"| {size.total / size.without_fonts:.2f}x |",
        "",
        "| Invoice PDF | first render (fonts parsed) | median render | PDF size |",
        "|---|---:|---:|---:|",
    ]
    lines += [
        f"| {r.script} | {r.first_ms:.0f} ms | {r.median_ms:.0f} ms | {r.pdf_bytes / 1000:.0f} KB |"
        for r in report.renderings
    ]
    cold = report.cold
    lines += [
        "",
        f"| {DELIVERY} cold import (median of {COLD_REPEAT}) | ms | x floor |",
        "|---|---:|---:|",
        f"| floor: import boto3 + 1 client | {cold.floor_ms:.0f} | 1.00 |",
        f"| as built (with the fonts and shaping) | {cold.with_fonts_ms:.0f} "
        f"| {cold.with_fonts_ms / cold.floor_ms:.2f} |",
        f"| without the font packages and HarfBuzz | {cold.without_fonts_ms:.0f} "
        f"| {cold.without_fonts_ms / cold.floor_ms:.2f} |",
    ]
    return "\n".join(lines)


def main() -> None:
    print(table(measure()))


if __name__ == "__main__":
    main()
