"""Data migration: the CSV files a company moving onto this system loads its data from.

Four kinds of file, each with its columns (the header row names them, in any order, any case):

- customers: customer_id, legal_name, billing_email, currency, line1, city, postal_code, country;
  optional line2, region, contact_email, tax_id, peppol_id, payment_terms (net30, 2/10 net30,
  due_on_receipt; default net30), credit_limit (default 0), dunning_policy (default "default"),
  pdf_format (pdf or factur-x; default pdf)
- catalog: sku, name, unit, tax_category, currency, unit_price; optional active (true/false),
  supply (goods or services; default goods)
- stock: sku, on_hand
- receivables: customer_id, invoice_number, issue_date, due_date, currency, original_amount,
  open_amount

A file whose header lacks a required column, names an unknown one, or names one twice is rejected
whole, before any row is read; so is a file that is not UTF-8 text, is not CSV, or is too large.
Otherwise each row stands alone: it is valid and lands, or it is listed in the error report with
its row number (the header is row 1, as a spreadsheet shows it), the column to blame and why.

This module is pure (no AWS): identifying a file, reading and chunking it, validating rows into
the domain's own types, the error report, and the events of an import.
"""

from __future__ import annotations

import csv
import hashlib
import io
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Annotated, Any, Literal, get_args

from pydantic import (
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from shared import clock
from shared.domain import customer as customer_domain
from shared.domain import ledger, pricing, vat_ids
from shared.domain.customer import (
    COUNTRIES,
    Address,
    Customer,
    CustomerStatus,
    EmailAddress,
    LegalName,
    PdfFormat,
    PeppolId,
    PolicyName,
    PostalCode,
    TaxId,
    Text,
)
from shared.domain.dates import BusinessDate
from shared.domain.events import DomainEvent
from shared.domain.ledger import JournalEntry
from shared.domain.money import minor_units, quantize
from shared.domain.stock import MAX_UNITS
from shared.domain.terms import NET_30, PaymentTerms
from shared.domain.text import scrub
from shared.model import Model

SOURCE = "otc.imports"

Kind = Literal["customers", "catalog", "stock", "receivables"]
KINDS: tuple[Kind, ...] = get_args(Kind)

IMPORTS_PREFIX = "imports/"
REPORTS_PREFIX = "imports/reports/"
MAX_FILE_BYTES = 10 * 1024 * 1024  # what the file worker reads (a bucket drop)
MAX_UPLOAD_BYTES = 5 * 1024 * 1024  # what the API takes in a body (Lambda's payload is 6 MB)
MAX_ROWS = 50_000  # one worker fans a file out within its timeout; split bigger files
MAX_ROW_CHARS = 8_192  # longer: almost always an unbalanced quote swallowing the lines after it
CHUNK_ROWS = 25  # rows per row-worker message
CHUNK_BYTES = 200_000  # and at most this much JSON per message (SQS takes 256 KiB)
DELIMITERS = (",", ";", "\t")

_BOM = b"\xef\xbb\xbf"


class JobStatus(StrEnum):
    PENDING = "pending"  # uploaded through the API; the file worker has not read it yet
    RUNNING = "running"  # rows are being imported
    COMPLETED = "completed"  # every row landed or is in the error report
    FAILED = "failed"  # the file was rejected whole; nothing was imported


class InvalidFileError(ValueError):
    """The file cannot be imported at all (``reason`` says why, for the job and the API)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class RowError:
    """One line of the error report: which row, which column (empty: the row as a whole), why."""

    row: int
    field: str
    reason: str

    def to_wire(self) -> dict[str, Any]:
        return {"row": self.row, "field": self.field, "reason": self.reason}


@dataclass(frozen=True)
class SourceRow:
    """A data row as read: its number in the file and its raw values, in header order."""

    row: int
    values: tuple[str, ...]


@dataclass(frozen=True)
class ParsedFile:
    kind: Kind
    columns: tuple[str, ...]
    rows: tuple[SourceRow, ...]


@dataclass(frozen=True)
class Chunk:
    """What one row-worker message carries: ``number`` is stable for a given file."""

    number: int
    rows: tuple[SourceRow, ...]


# --- naming files and imports -----------------------------------------------------------------


def object_key(kind: Kind, import_id: str) -> str:
    """Where the API stores an uploaded file (a drop may use any name under imports/<kind>/)."""
    return f"{IMPORTS_PREFIX}{kind}/{import_id}.csv"


def report_key(import_id: str) -> str:
    return f"{REPORTS_PREFIX}{import_id}-errors.csv"


def kind_of_key(key: str) -> Kind | None:
    """The kind of ``imports/<kind>/<name>``; None for any other key (reports, folders, typos)."""
    parts = key.split("/")
    if len(parts) != 3 or parts[0] + "/" != IMPORTS_PREFIX or not parts[2]:
        return None
    kind = parts[1]
    return kind if kind in KINDS else None


def import_id(kind: Kind, content: bytes) -> str:
    """The same bytes for the same kind are the same import, however often they are dropped."""
    return "imp_" + hashlib.sha256(kind.encode() + b"\n" + content).hexdigest()[:32]


def unread_import_id(bucket: str, key: str, version: str) -> str:
    """The id of a file rejected without being read (too large): its object version names it."""
    return "imp_" + hashlib.sha256(f"s3://{bucket}/{key}#{version}".encode()).hexdigest()[:32]


def is_import_id(value: str) -> bool:
    return bool(re.fullmatch(r"imp_[0-9a-f]{32}", value))


# --- reading a file ---------------------------------------------------------------------------


def decode(content: bytes) -> str:
    """UTF-8 text, with or without a byte order mark (spreadsheets often write one)."""
    try:
        return content.removeprefix(_BOM).decode("utf-8")
    except UnicodeDecodeError as error:
        raise InvalidFileError(
            f"the file is not UTF-8 text (byte {error.start} cannot be decoded); "
            "export it as CSV UTF-8"
        ) from None


def read(kind: Kind, content: bytes) -> ParsedFile:
    """Check the header and split the rows; raise ``InvalidFileError`` for a file to reject.

    Blank rows are skipped (their numbers are kept, so row numbers match the file). The
    delimiter is the one of , ; or tab the header uses most (comma when it uses none).
    """
    text = decode(content)
    header_line = text.split("\n", 1)[0]
    delimiter = max(DELIMITERS, key=header_line.count) if header_line.strip() else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    rows: list[SourceRow] = []
    try:
        header = next(reader, None)
        if header is None or not any(name.strip() for name in header):
            raise InvalidFileError("the file is empty: the first row must name the columns")
        columns = check_header(kind, header)
        for number, values in enumerate(reader, start=2):
            if not any(value.strip() for value in values):
                continue
            if sum(len(value) for value in values) > MAX_ROW_CHARS:
                raise InvalidFileError(
                    f"row {number} is longer than {MAX_ROW_CHARS} characters; "
                    "look for an unbalanced quote on or before it"
                )
            rows.append(SourceRow(row=number, values=tuple(values)))
            if len(rows) > MAX_ROWS:
                raise InvalidFileError(
                    f"the file has more than {MAX_ROWS} rows; split it into smaller files"
                )
    except csv.Error as error:
        raise InvalidFileError(
            f"row {reader.line_num}: the file is not valid CSV ({error})"
        ) from None
    return ParsedFile(kind=kind, columns=columns, rows=tuple(rows))


def check_header(kind: Kind, header: Sequence[str]) -> tuple[str, ...]:
    """The column names, normalised (trimmed, lower case), once the header suits ``kind``."""
    required, optional = columns_of(kind)
    names = tuple(name.strip().lower() for name in header)
    problems: list[str] = []
    if unnamed := [str(i) for i, name in enumerate(names, start=1) if not name]:
        problems.append(f"column(s) {', '.join(unnamed)} have no name")
    if duplicated := sorted({name for name in names if name and names.count(name) > 1}):
        problems.append(f"duplicate columns: {', '.join(duplicated)}")
    if missing := [name for name in required if name not in names]:
        problems.append(f"missing columns: {', '.join(missing)}")
    if unknown := [name for name in names if name and name not in required + optional]:
        problems.append(f"unknown columns: {', '.join(unknown)}")
    if problems:
        allowed = ", ".join(required) + (f" (optional: {', '.join(optional)})" if optional else "")
        raise InvalidFileError(
            f"the header does not fit a {kind} file: {'; '.join(problems)}. "
            f"A {kind} file has the columns {allowed}"
        )
    return names


def chunks(parsed: ParsedFile) -> list[Chunk]:
    """The rows in messages of at most ``CHUNK_ROWS`` rows and about ``CHUNK_BYTES`` of values.

    Deterministic: the same file always gives the same chunks, so a fan-out that is repeated
    (after a crash) sends messages the row worker recognises as the same.
    """
    found: list[Chunk] = []
    current: list[SourceRow] = []
    size = 0
    for row in parsed.rows:
        row_size = sum(len(value.encode()) + 8 for value in row.values) + 32
        if current and (len(current) == CHUNK_ROWS or size + row_size > CHUNK_BYTES):
            found.append(Chunk(number=len(found) + 1, rows=tuple(current)))
            current, size = [], 0
        current.append(row)
        size += row_size
    if current:
        found.append(Chunk(number=len(found) + 1, rows=tuple(current)))
    return found


# --- rows -------------------------------------------------------------------------------------

Identifier = Annotated[str, Field(min_length=1, max_length=64)]
_IDENTIFIER = re.compile(r"[A-Za-z0-9][A-Za-z0-9._/-]{0,63}")
_DECIMAL = re.compile(r"\d{1,12}(\.\d{1,6})?")
_TERMS = re.compile(
    r"(?:(?P<percent>\d{1,3}(?:\.\d{1,4})?)/(?P<days>\d{1,3}) ?)?net ?(?P<net>\d{1,3})"
)
_TRUE, _FALSE = {"true", "yes", "y", "1"}, {"false", "no", "n", "0"}


def _identifier(value: str, what: str) -> str:
    if not _IDENTIFIER.fullmatch(value):
        raise ValueError(
            f"'{value}' is not a valid {what}: 1 to 64 letters, digits and . _ / - "
            "(starting with a letter or digit)"
        )
    return value


def _sku(value: str) -> str:
    if not pricing.is_sku(value):
        raise ValueError(f"'{value}' is not a SKU: 1 to 64 of A-Z 0-9 . _ -")
    return value


def _decimal(value: Any) -> Any:
    if isinstance(value, str):
        if not _DECIMAL.fullmatch(value):
            raise ValueError(f"'{value}' is not an amount like 1234.56 (no sign, no grouping)")
        return Decimal(value)
    return value


def _currency(value: Any) -> Any:
    if isinstance(value, str):
        value = value.upper()
        minor_units(value)
    return value


def _in_currency(amount: Decimal, info: ValidationInfo) -> Decimal:
    currency = info.data.get("currency")
    if currency is not None and quantize(amount, currency) != amount:
        raise ValueError(f"has more than {minor_units(currency)} decimals for {currency}")
    return amount


def parse_terms(text: str) -> PaymentTerms:
    """ "net30", "net 30", "2/10 net30" (2 % off within 10 days), "due_on_receipt"."""
    normalised = " ".join(text.lower().replace("_", " ").split())
    if normalised == "due on receipt":
        return PaymentTerms(kind="due_on_receipt")
    match = _TERMS.fullmatch(normalised)
    if match is None:
        raise ValueError(f"'{text}' is not payment terms like net30, 2/10 net30 or due_on_receipt")
    days = match["days"]
    try:
        return PaymentTerms.net(
            int(match["net"]),
            discount_percent=match["percent"],
            discount_days=int(days) if days is not None else None,
        )
    except ValidationError as error:
        reason = error.errors(include_url=False)[0]["msg"].removeprefix("Value error, ")
        raise ValueError(f"'{text}': {reason}") from None


class _Row(Model):
    """A row's values by column; a blank value is an absent one (its default applies)."""

    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)

    @model_validator(mode="before")
    @classmethod
    def _blank_is_absent(cls, data: Any) -> Any:
        if isinstance(data, dict):
            return {k: v for k, v in data.items() if not (isinstance(v, str) and not v.strip())}
        return data


class CustomerRow(_Row):
    """A customer account, opened active with its credit item (its limit, nothing owed yet)."""

    customer_id: Identifier
    legal_name: LegalName
    billing_email: EmailAddress
    currency: str
    line1: Text
    city: Text
    postal_code: PostalCode
    country: str
    line2: Text | None = None
    region: Text | None = None
    contact_email: EmailAddress | None = None
    tax_id: TaxId | None = None
    peppol_id: PeppolId | None = None  # scheme:identifier, e.g. 0208:0123456749
    payment_terms: PaymentTerms = NET_30
    credit_limit: Decimal = Decimal(0)
    dunning_policy: PolicyName = "default"
    pdf_format: PdfFormat = "pdf"

    @field_validator("customer_id")
    @classmethod
    def _id(cls, value: str) -> str:
        return _identifier(value, "customer id")

    @field_validator("currency", mode="before")
    @classmethod
    def _iso_currency(cls, value: Any) -> Any:
        return _currency(value)

    @field_validator("credit_limit", mode="before")
    @classmethod
    def _limit_text(cls, value: Any) -> Any:
        return _decimal(value)

    @field_validator("credit_limit")
    @classmethod
    def _limit(cls, value: Decimal, info: ValidationInfo) -> Decimal:
        return _in_currency(value, info)

    @field_validator("country", mode="before")
    @classmethod
    def _iso_country(cls, value: Any) -> Any:
        if isinstance(value, str) and value.strip().upper() not in COUNTRIES:
            raise ValueError(f"'{value}' is not an ISO 3166-1 alpha-2 country code")
        return value.strip().upper() if isinstance(value, str) else value

    @field_validator("payment_terms", mode="before")
    @classmethod
    def _terms(cls, value: Any) -> Any:
        return parse_terms(value) if isinstance(value, str) else value

    @field_validator("tax_id")
    @classmethod
    def _vat_id(cls, value: str | None, info: ValidationInfo) -> str | None:
        if value is not None and "country" in info.data:  # else the country error speaks
            vat_ids.checked(value, info.data["country"])
        return value

    def customer(self, now: datetime) -> Customer:
        return Customer(
            customer_id=self.customer_id,
            legal_name=self.legal_name,
            billing_email=self.billing_email,
            contact_email=self.contact_email,
            tax_id=self.tax_id,
            peppol_id=self.peppol_id,
            currency=self.currency,
            billing_address=Address(
                line1=self.line1,
                line2=self.line2,
                city=self.city,
                postal_code=self.postal_code,
                region=self.region,
                country=self.country,
            ),
            payment_terms=self.payment_terms,
            credit_limit=self.credit_limit,
            dunning_policy=self.dunning_policy,
            pdf_format=self.pdf_format,
            status=CustomerStatus.ACTIVE,
            version=1,
            created_at=now,
            updated_at=now,
        )


class CatalogRow(_Row):
    """An item (created or replaced) with its list price in one currency."""

    sku: str
    name: pricing.Name
    unit: str
    tax_category: pricing.TaxCategory
    currency: str
    unit_price: Decimal
    active: bool = True
    supply: pricing.Supply = pricing.Supply.GOODS

    @field_validator("sku")
    @classmethod
    def _sku(cls, value: str) -> str:
        return _sku(value)

    @field_validator("currency", mode="before")
    @classmethod
    def _iso_currency(cls, value: Any) -> Any:
        return _currency(value)

    @field_validator("unit_price", mode="before")
    @classmethod
    def _price_text(cls, value: Any) -> Any:
        return _decimal(value)

    @field_validator("unit", mode="before")
    @classmethod
    def _unit(cls, value: Any) -> Any:
        if isinstance(value, str) and value.upper() not in pricing.UNITS:
            raise ValueError(f"'{value}' is not a supported UN/ECE rec 20 unit code (EA, KGM, ...)")
        return value.upper() if isinstance(value, str) else value

    @field_validator("tax_category", mode="before")
    @classmethod
    def _category(cls, value: Any) -> Any:
        return _one_of(value, pricing.TaxCategory, "a tax category")

    @field_validator("supply", mode="before")
    @classmethod
    def _supply(cls, value: Any) -> Any:
        return _one_of(value, pricing.Supply, "a supply")

    @field_validator("unit_price")
    @classmethod
    def _price(cls, value: Decimal) -> Decimal:
        if pricing.decimals(value) > pricing.MAX_PRICE_DECIMALS:
            raise ValueError(f"has more than {pricing.MAX_PRICE_DECIMALS} decimals")
        return value

    @field_validator("active", mode="before")
    @classmethod
    def _flag(cls, value: Any) -> Any:
        if isinstance(value, str):
            if value.lower() in _TRUE:
                return True
            if value.lower() in _FALSE:
                return False
            raise ValueError(f"'{value}' is not true or false")
        return value

    def item_request(self) -> pricing.ItemRequest:
        return pricing.ItemRequest(
            name=self.name,
            unit=self.unit,
            tax_category=self.tax_category,
            supply=self.supply,
            active=self.active,
        )


class StockRow(_Row):
    """The counted on-hand quantity of a catalog item (what is reserved stays reserved)."""

    sku: str
    on_hand: int

    @field_validator("sku")
    @classmethod
    def _sku(cls, value: str) -> str:
        return _sku(value)

    @field_validator("on_hand", mode="before")
    @classmethod
    def _units(cls, value: Any) -> Any:
        if isinstance(value, str):
            if not re.fullmatch(r"\d{1,10}", value) or int(value) > MAX_UNITS:
                raise ValueError(f"'{value}' is not a whole number of units from 0 to {MAX_UNITS}")
            return int(value)
        return value


class ReceivableRow(_Row):
    """An invoice of the legacy system, still (partly) unpaid: an opening balance."""

    customer_id: Identifier
    invoice_number: Identifier
    currency: str
    issue_date: BusinessDate
    due_date: BusinessDate
    original_amount: Decimal
    open_amount: Decimal

    @field_validator("customer_id")
    @classmethod
    def _id(cls, value: str) -> str:
        return _identifier(value, "customer id")

    @field_validator("invoice_number")
    @classmethod
    def _number(cls, value: str) -> str:
        return _identifier(value, "invoice number")

    @field_validator("currency", mode="before")
    @classmethod
    def _iso_currency(cls, value: Any) -> Any:
        return _currency(value)

    @field_validator("original_amount", "open_amount", mode="before")
    @classmethod
    def _amount_text(cls, value: Any) -> Any:
        return _decimal(value)

    @field_validator("issue_date", "due_date", mode="before")
    @classmethod
    def _iso_date(cls, value: Any) -> Any:
        if isinstance(value, str):
            try:
                if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
                    raise ValueError(value)
                return date.fromisoformat(value)
            except ValueError:
                raise ValueError(f"'{value}' is not a date like 2024-01-31 (YYYY-MM-DD)") from None
        return value

    @field_validator("due_date")
    @classmethod
    def _due_after_issue(cls, value: date, info: ValidationInfo) -> date:
        issued = info.data.get("issue_date")
        if issued is not None and value < issued:
            raise ValueError(f"{value} is before the issue date {issued}")
        return value

    @field_validator("original_amount")
    @classmethod
    def _original(cls, value: Decimal, info: ValidationInfo) -> Decimal:
        if value <= 0:
            raise ValueError("must be greater than 0")
        return _in_currency(value, info)

    @field_validator("open_amount")
    @classmethod
    def _open(cls, value: Decimal, info: ValidationInfo) -> Decimal:
        if value <= 0:
            raise ValueError("must be greater than 0 (a paid invoice is not an open receivable)")
        original = info.data.get("original_amount")
        if original is not None and value > original:
            raise ValueError(f"{value} is more than the original amount {original}")
        return _in_currency(value, info)


ImportRow = CustomerRow | CatalogRow | StockRow | ReceivableRow

ROW_MODELS: dict[Kind, type[_Row]] = {
    "customers": CustomerRow,
    "catalog": CatalogRow,
    "stock": StockRow,
    "receivables": ReceivableRow,
}


def _one_of(value: Any, choices: type[StrEnum], what: str) -> Any:
    """A choice's text in any case, or why it is none of them."""
    if isinstance(value, str):
        if value.lower() not in set(choices):
            raise ValueError(f"'{value}' is not {what} ({', '.join(choices)})")
        return value.lower()
    return value


def columns_of(kind: Kind) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(required, optional) columns of a kind of file, in the order the docs list them."""
    fields = ROW_MODELS[kind].model_fields
    required = tuple(name for name, info in fields.items() if info.is_required())
    optional = tuple(name for name, info in fields.items() if not info.is_required())
    return required, optional


def parse_row(kind: Kind, columns: Sequence[str], row: SourceRow) -> ImportRow | list[RowError]:
    """The row as its kind's model, or every reason it is not one (one per column at fault)."""
    if len(row.values) != len(columns):
        return [
            RowError(
                row.row,
                "",
                f"the row has {len(row.values)} fields; the header has {len(columns)}",
            )
        ]
    try:
        parsed = ROW_MODELS[kind].model_validate(dict(zip(columns, row.values, strict=True)))
    except ValidationError as error:
        return [_row_error(row.row, item) for item in error.errors(include_url=False)]
    assert isinstance(parsed, CustomerRow | CatalogRow | StockRow | ReceivableRow)
    return parsed


def _row_error(row: int, item: Any) -> RowError:
    field = str(item["loc"][0]) if item["loc"] else ""
    if item["type"] == "missing":
        return RowError(row, field, "a value is required")
    reason = str(item["msg"]).removeprefix("Value error, ")
    return RowError(row, field, reason)


def error_report(errors: Iterable[RowError]) -> bytes:
    """The report as CSV: row, field, reason, by row (just the header when all rows landed)."""
    out = io.StringIO(newline="")
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(["row", "field", "reason"])
    for error in sorted(errors, key=lambda e: (e.row, e.field)):
        writer.writerow([error.row, scrub(error.field), scrub(error.reason)])
    return out.getvalue().encode()


# --- the job and its events -------------------------------------------------------------------


class ImportJob(Model):
    """One file's import: where it came from, how far it got, how it ended."""

    model_config = ConfigDict(frozen=True)

    import_id: str
    kind: Kind
    status: JobStatus
    bucket: str
    key: str
    sha256: str | None = None
    reason: str | None = None  # why a failed file was rejected
    total_rows: int | None = None  # known once the file worker has read the file
    processed: int = 0
    succeeded: int = 0
    failed: int = 0
    chunks: int | None = None
    fanned_out: bool = False  # every chunk was handed to the row queue
    uploaded_by: str | None = None  # the principal, for uploads through the API
    created_at: datetime
    started_at: datetime | None = None
    finished_at: datetime | None = None
    report_key: str | None = None

    @property
    def done(self) -> bool:
        return self.total_rows is not None and self.processed >= self.total_rows

    def to_wire(self) -> dict[str, Any]:
        def moment(value: datetime | None) -> str | None:
            return clock.iso(value) if value else None

        return {
            "import_id": self.import_id,
            "kind": self.kind,
            "status": self.status.value,
            "source": {"bucket": self.bucket, "key": self.key},
            "reason": self.reason,
            "total_rows": self.total_rows,
            "processed": self.processed,
            "succeeded": self.succeeded,
            "failed": self.failed,
            "uploaded_by": self.uploaded_by,
            "created_at": moment(self.created_at),
            "started_at": moment(self.started_at),
            "finished_at": moment(self.finished_at),
        }


def started(job: ImportJob) -> DomainEvent:
    return _event("ImportStarted", job, total_rows=job.total_rows)


def completed(job: ImportJob) -> DomainEvent:
    return _event(
        "ImportCompleted",
        job,
        total_rows=job.total_rows,
        succeeded=job.succeeded,
        failed=job.failed,
        error_report=job.report_key,
    )


def rejected(job: ImportJob) -> DomainEvent:
    return _event("ImportRejected", job, reason=job.reason)


def _event(detail_type: str, job: ImportJob, **data: Any) -> DomainEvent:
    return DomainEvent(
        detail_type=detail_type,
        source=SOURCE,
        aggregate_id=job.import_id,
        occurred_at=clock.now(),
        data={
            "import_id": job.import_id,
            "kind": job.kind,
            "source": {"bucket": job.bucket, "key": job.key},
            **data,
        },
    )


def provenance(import_id: str, row: int) -> dict[str, Any]:
    """What every event of an imported row carries, so consumers can tell migrated data apart."""
    return {"import_id": import_id, "row": row}


def customer_imported(customer: Customer, import_id: str, row: int) -> DomainEvent:
    """CustomerCreated, as the API writes it, with the import as the actor."""
    return DomainEvent(
        detail_type="CustomerCreated",
        source=customer_domain.SOURCE,
        aggregate_id=customer.customer_id,
        occurred_at=customer.created_at,
        data={
            **customer.to_wire(),
            "actor": f"import:{import_id}",
            "import": provenance(import_id, row),
        },
    )


def from_import(event: DomainEvent, import_id: str, row: int) -> DomainEvent:
    """A domain event (ItemUpserted, PriceSet, StockLevelSet) marked as coming from an import."""
    return event.model_copy(update={"data": {**event.data, "import": provenance(import_id, row)}})


def legacy_invoice_id(invoice_number: str) -> str:
    """Legacy invoices are named by their original number, apart from this system's own ids."""
    return f"legacy-{invoice_number}"


def opening_entry(row: ReceivableRow) -> JournalEntry:
    """The journal entry that books a legacy invoice's open amount as an opening balance (its
    id derives from the invoice number, so a number imported again cannot post it twice)."""
    return ledger.for_opening_balance(
        row.customer_id,
        row.currency,
        legacy_invoice_id(row.invoice_number),
        row.invoice_number,
        quantize(row.open_amount, row.currency),
        row.issue_date,
    )


def invoice_imported(row: ReceivableRow, import_id: str, row_number: int) -> DomainEvent:
    invoice_id = legacy_invoice_id(row.invoice_number)
    return DomainEvent(
        detail_type="InvoiceImported",
        source=SOURCE,
        aggregate_id=invoice_id,
        data={
            "invoice_id": invoice_id,
            "invoice_number": row.invoice_number,
            "customer_id": row.customer_id,
            "currency": row.currency,
            "issue_date": row.issue_date.isoformat(),
            "due_date": row.due_date.isoformat(),
            "original_amount": str(quantize(row.original_amount, row.currency)),
            "open_amount": str(quantize(row.open_amount, row.currency)),
            "import": provenance(import_id, row_number),
        },
    )
