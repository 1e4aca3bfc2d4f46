"""Tables written as CSV (RFC 4180, UTF-8) or as an XLSX workbook (XlsxWriter).

A ``Sheet`` is a header and rows of typed cells; each column says what its cells are:
``text`` (neutralised: a cell a spreadsheet would take for a formula, ``= + - @`` first, gets a
leading apostrophe: OWASP's CSV injection rule), ``money`` (a Decimal: a plain decimal string in
CSV, a number with two decimals in XLSX), ``number`` (an int or Decimal), ``date`` (a date: ISO
in CSV, a date cell in XLSX). ``None`` is an empty cell. XlsxWriter is imported on first use,
off the API's cold start.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any, Literal

from shared.domain.text import spreadsheet_cell

Kind = Literal["text", "money", "number", "date"]
Cell = str | int | Decimal | date | None

CSV_TYPE = "text/csv; charset=utf-8"
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
MONEY_FORMAT = "#,##0.00"
DATE_FORMAT = "yyyy-mm-dd"
_WIDTH = {"text": 24, "money": 14, "number": 12, "date": 12}


@dataclass(frozen=True)
class Column:
    name: str
    kind: Kind = "text"


@dataclass
class Sheet:
    title: str  # the worksheet's name (31 characters at most, no []:*?/\)
    columns: tuple[Column, ...]
    rows: list[tuple[Cell, ...]] = field(default_factory=list)


def _text(cell: Cell) -> str:
    if cell is None:
        return ""
    if isinstance(cell, date):
        return cell.isoformat()
    if isinstance(cell, str):
        return spreadsheet_cell(cell)
    return str(cell)


def to_csv(sheet: Sheet) -> str:
    """A header row, then one row per row; CRLF line ends (RFC 4180)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([spreadsheet_cell(column.name) for column in sheet.columns])
    for row in sheet.rows:
        writer.writerow([_text(cell) for cell in row])
    return out.getvalue()


def to_xlsx(sheet: Sheet) -> bytes:
    """One worksheet: a bold header row frozen above the rows, typed cells, an autofilter."""
    import xlsxwriter

    out = io.BytesIO()
    # Strings are never read as formulas or URLs: a user's text stays text.
    options = {"in_memory": True, "strings_to_formulas": False, "strings_to_urls": False}
    with xlsxwriter.Workbook(out, options) as book:
        bold = book.add_format({"bold": True})
        formats = {
            "money": book.add_format({"num_format": MONEY_FORMAT}),
            "date": book.add_format({"num_format": DATE_FORMAT}),
        }
        page = book.add_worksheet(sheet.title[:31])
        for col, column in enumerate(sheet.columns):
            page.write_string(0, col, column.name, bold)
            page.set_column(col, col, _WIDTH[column.kind])
        for number, row in enumerate(sheet.rows, start=1):
            for col, (column, cell) in enumerate(zip(sheet.columns, row, strict=True)):
                _write(page, number, col, cell, kind=column.kind, formats=formats)
        page.freeze_panes(1, 0)
        page.autofilter(0, 0, max(len(sheet.rows), 1), len(sheet.columns) - 1)
    return out.getvalue()


def _write(
    page: Any, row: int, col: int, cell: Cell, *, kind: Kind, formats: dict[str, Any]
) -> None:
    if cell is None:
        return
    if kind == "date" and isinstance(cell, date):
        page.write_datetime(row, col, cell, formats["date"])
    elif kind in {"money", "number"} and isinstance(cell, int | Decimal):
        page.write_number(row, col, float(cell), formats.get(kind))
    else:
        page.write_string(row, col, _text(cell))
