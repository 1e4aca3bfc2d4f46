"""Data migration, the pure part: reading files, checking headers, validating rows, chunking."""

from __future__ import annotations

import csv
import io
import json
import re
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shared.domain import imports as domain
from shared.domain.imports import (
    CatalogRow,
    CustomerRow,
    InvalidFileError,
    ReceivableRow,
    RowError,
    SourceRow,
    StockRow,
)
from shared.domain.terms import PaymentTerms

CUSTOMER_COLUMNS = (
    "customer_id",
    "legal_name",
    "billing_email",
    "currency",
    "line1",
    "city",
    "postal_code",
    "country",
)
GOOD_CUSTOMER = ("C-1", "ACME", "ap@acme.example", "EUR", "Main 1", "Berlin", "10115", "DE")
RECEIVABLE_COLUMNS = (
    "customer_id",
    "invoice_number",
    "issue_date",
    "due_date",
    "currency",
    "original_amount",
    "open_amount",
)


def row(*values: str, number: int = 2) -> SourceRow:
    return SourceRow(row=number, values=values)


def customer(**changes: str) -> domain.ImportRow | list[RowError]:
    values = dict(zip(CUSTOMER_COLUMNS, GOOD_CUSTOMER, strict=True)) | changes
    return domain.parse_row("customers", tuple(values), row(*values.values()))


def receivable(**changes: str) -> domain.ImportRow | list[RowError]:
    values = {
        "customer_id": "C-1",
        "invoice_number": "INV/2024/7",
        "issue_date": "2024-10-01",
        "due_date": "2024-10-31",
        "currency": "EUR",
        "original_amount": "100.00",
        "open_amount": "40.00",
    } | changes
    return domain.parse_row("receivables", tuple(values), row(*values.values()))


def fields(result: object) -> dict[str, str]:
    assert isinstance(result, list), result
    return {error.field: error.reason for error in result}


# --- headers --------------------------------------------------------------------------------------


def test_a_header_is_read_in_any_order_and_case_with_optional_columns():
    # Given a header with spaces, capitals and an optional column
    header = [" SKU", "on_hand "]
    catalog = ["unit_price", "Name", "sku", "unit", "tax_category", "currency", "ACTIVE"]

    # Then the columns come out normalised
    assert domain.check_header("stock", header) == ("sku", "on_hand")
    assert domain.check_header("catalog", catalog)[-1] == "active"


def test_a_header_that_does_not_fit_the_kind_names_every_problem():
    # When a customers file lacks columns, adds others and repeats one
    with pytest.raises(InvalidFileError) as raised:
        domain.check_header("customers", [*CUSTOMER_COLUMNS[:-2], "email", "email", ""])

    # Then the reason says all of it, and which columns the kind takes
    reason = raised.value.reason
    assert "missing columns: postal_code, country" in reason
    assert "unknown columns: email, email" in reason
    assert "duplicate columns: email" in reason
    assert "column(s) 9 have no name" in reason
    assert "A customers file has the columns customer_id, legal_name" in reason
    assert "(optional: line2, region, contact_email" in reason


@pytest.mark.parametrize(
    ("kind", "required"),
    [
        ("customers", CUSTOMER_COLUMNS),
        ("catalog", ("sku", "name", "unit", "tax_category", "currency", "unit_price")),
        ("stock", ("sku", "on_hand")),
        ("receivables", ("customer_id", "invoice_number", "currency", "issue_date", "due_date")),
    ],
)
def test_each_kind_requires_its_columns(kind, required):
    assert set(required) <= set(domain.columns_of(kind)[0])
    for name in required:
        with pytest.raises(InvalidFileError, match=f"missing columns: {name}"):
            domain.check_header(kind, [c for c in domain.columns_of(kind)[0] if c != name])


# --- reading files --------------------------------------------------------------------------------


def test_a_file_is_read_with_its_bom_delimiter_and_row_numbers():
    # Given a spreadsheet export: BOM, semicolons, CRLF, a quoted field, blank rows
    content = b'\xef\xbb\xbfsku;on_hand\r\n"A;1";5\r\n\r\n;\r\nB;7\r\n'

    # When it is read
    parsed = domain.read("stock", content)

    # Then blank rows are skipped and the others keep the numbers a spreadsheet shows
    assert parsed.columns == ("sku", "on_hand")
    assert parsed.rows == (row("A;1", "5", number=2), row("B", "7", number=5))


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (b"", "the file is empty"),
        (b"\n\n", "the file is empty"),
        (b"sku,on_hand\nA,\xe9\n", "not UTF-8 text (byte 14"),
        (b'sku,on_hand\n"A,1\n' + b"x" * 9000, "row 2 is longer than 8192 characters"),
    ],
)
def test_files_that_cannot_be_read_are_rejected_with_the_reason(content, reason):
    with pytest.raises(InvalidFileError, match=re.escape(reason)):
        domain.read("stock", content)


def test_a_file_with_too_many_rows_is_rejected(monkeypatch):
    monkeypatch.setattr(domain, "MAX_ROWS", 3)
    domain.read("stock", b"sku,on_hand\n" + b"A,1\n" * 3)
    with pytest.raises(InvalidFileError, match="more than 3 rows"):
        domain.read("stock", b"sku,on_hand\n" + b"A,1\n" * 4)


def test_the_import_id_names_the_kind_and_the_bytes():
    content = b"sku,on_hand\nA,1\n"
    assert domain.import_id("stock", content) == domain.import_id("stock", content)
    assert domain.import_id("stock", content) != domain.import_id("stock", content + b"\n")
    assert domain.import_id("stock", content) != domain.import_id("catalog", content)
    assert domain.is_import_id(domain.import_id("stock", content))
    assert not domain.is_import_id("stock")


@pytest.mark.parametrize(
    ("key", "kind"),
    [
        ("imports/customers/2024 export.csv", "customers"),
        ("imports/receivables/imp_1.csv", "receivables"),
        ("imports/reports/imp_1-errors.csv", None),
        ("imports/stock/", None),
        ("imports/stock/sub/file.csv", None),
        ("invoices/2024/1.pdf", None),
    ],
)
def test_only_files_under_a_kind_are_imports(key, kind):
    assert domain.kind_of_key(key) == kind


# --- customers ------------------------------------------------------------------------------------


def test_a_customer_row_becomes_an_account_with_defaults():
    parsed = customer()
    assert isinstance(parsed, CustomerRow)
    account = parsed.customer(datetime(2024, 12, 31, tzinfo=UTC))
    assert account.customer_id == "C-1"
    assert account.payment_terms == PaymentTerms.net(30)
    assert account.credit_limit == Decimal(0)
    assert account.billing_address is not None and account.billing_address.country == "DE"
    assert account.version == 1


def test_a_customer_row_may_name_its_peppol_participant_id():
    parsed = customer(peppol_id="0208:0123456749")
    assert isinstance(parsed, CustomerRow)
    assert parsed.customer(datetime(2024, 12, 31, tzinfo=UTC)).peppol_id == "0208:0123456749"


def test_a_customer_row_may_ask_for_factur_x_pdfs_and_defaults_to_plain_ones():
    hybrid, plain = customer(pdf_format="factur-x"), customer(pdf_format="")
    assert isinstance(hybrid, CustomerRow) and isinstance(plain, CustomerRow)
    now = datetime(2024, 12, 31, tzinfo=UTC)
    assert (hybrid.customer(now).pdf_format, plain.customer(now).pdf_format) == ("factur-x", "pdf")
    assert "pdf_format" in fields(customer(pdf_format="zugferd"))


@pytest.mark.parametrize("peppol_id", ["EM:ap@acme.example", "0208", "9999:123"])
def test_a_peppol_id_outside_the_eas_code_list_is_a_row_error(peppol_id):
    assert "peppol_id" in fields(customer(peppol_id=peppol_id))


@pytest.mark.parametrize(
    ("text", "terms"),
    [
        ("net30", PaymentTerms.net(30)),
        ("Net 45", PaymentTerms.net(45)),
        ("NET_0", PaymentTerms.net(0)),
        ("2/10 net30", PaymentTerms.net(30, discount_percent="2", discount_days=10)),
        ("1.5/15 Net 60", PaymentTerms.net(60, discount_percent="1.5", discount_days=15)),
        ("due_on_receipt", PaymentTerms(kind="due_on_receipt")),
        ("Due on receipt", PaymentTerms(kind="due_on_receipt")),
    ],
)
def test_payment_terms_read_as_people_write_them(text, terms):
    assert domain.parse_terms(text) == terms


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("30 days", "is not payment terms like net30"),
        ("net400", "less than or equal to 365"),
        ("2/40 net30", "discount_days may not exceed net_days"),
    ],
)
def test_payment_terms_that_make_no_sense_are_refused(text, reason):
    with pytest.raises(ValueError, match=reason):
        domain.parse_terms(text)


def test_customer_codes_are_read_in_any_case_and_blank_optionals_take_defaults():
    parsed = customer(currency="eur", country="fr", credit_limit=" ", payment_terms="")
    assert isinstance(parsed, CustomerRow)
    assert (parsed.currency, parsed.country) == ("EUR", "FR")
    assert parsed.credit_limit == 0 and parsed.payment_terms == PaymentTerms.net(30)


def test_every_bad_customer_field_is_named_with_its_reason():
    errors = fields(
        customer(
            customer_id="C 1",
            billing_email="nope",
            currency="EURO",
            country="XX",
            line1="",
            credit_limit="100.001",
        )
    )
    assert set(errors) == {"customer_id", "billing_email", "currency", "country", "line1"}
    assert errors["line1"] == "a value is required"
    assert "'C 1' is not a valid customer id" in errors["customer_id"]
    assert errors["currency"] == "'EURO' is not an ISO 4217 currency code"


def test_an_imported_vat_id_must_be_valid_for_the_rows_country():
    # Given rows with a VAT id that fails its check digits, and one of another country
    # When they are read
    # Then the VAT id is the error, with the reason; a valid one is kept
    assert "not a valid DE VAT id" in fields(customer(tax_id="DE811907981"))["tax_id"]
    assert "VAT id of FR" in fields(customer(tax_id="FR40303265045"))["tax_id"]
    parsed = customer(tax_id="DE811907980")
    assert isinstance(parsed, CustomerRow) and parsed.tax_id == "DE811907980"


def test_a_credit_limit_must_fit_the_currency():
    assert fields(customer(credit_limit="100.001"))["credit_limit"] == (
        "has more than 2 decimals for EUR"
    )
    assert "no sign" in fields(customer(credit_limit="-5"))["credit_limit"]
    parsed = customer(currency="JPY", credit_limit="100000")
    assert isinstance(parsed, CustomerRow) and parsed.credit_limit == 100000


def test_a_row_with_another_number_of_fields_is_one_error():
    result = domain.parse_row("customers", CUSTOMER_COLUMNS, row(*GOOD_CUSTOMER[:-1], number=9))
    assert result == [RowError(9, "", "the row has 7 fields; the header has 8")]


# --- catalog and stock ----------------------------------------------------------------------------


def test_a_catalog_row_reads_codes_in_any_case():
    columns = ("sku", "name", "unit", "tax_category", "currency", "unit_price", "active", "supply")
    parsed = domain.parse_row(
        "catalog", columns, row("A-1", "Bolt", "ea", "Zero", "gbp", "0.125", "no", "Services")
    )
    assert isinstance(parsed, CatalogRow)
    assert (parsed.unit, parsed.tax_category.value, parsed.currency) == ("EA", "zero", "GBP")
    assert parsed.unit_price == Decimal("0.125") and parsed.active is False
    assert parsed.item_request().unit == "EA"
    assert parsed.item_request().supply.value == "services"


def test_a_catalog_row_without_a_supply_is_goods():
    columns = ("sku", "name", "unit", "tax_category", "currency", "unit_price")
    parsed = domain.parse_row("catalog", columns, row("A-1", "Bolt", "EA", "zero", "EUR", "1"))
    assert isinstance(parsed, CatalogRow)
    assert parsed.item_request().supply.value == "goods"


def test_bad_catalog_values_are_named():
    columns = ("sku", "name", "unit", "tax_category", "currency", "unit_price", "active", "supply")
    errors = fields(
        domain.parse_row(
            "catalog",
            columns,
            row("a-1", " ", "BOX", "luxury", "EUR", "1.1234567", "maybe", "rights"),
        )
    )
    assert set(errors) == {"sku", "name", "unit", "tax_category", "unit_price", "active", "supply"}
    assert "not a supported UN/ECE rec 20 unit code" in errors["unit"]
    assert "is not a tax category (standard, reduced, zero, exempt)" in errors["tax_category"]
    assert "is not a supply (goods, services)" in errors["supply"]


@pytest.mark.parametrize(
    ("on_hand", "ok"),
    [("0", True), ("1000000000", True), ("1000000001", False), ("-1", False), ("2.5", False)],
)
def test_on_hand_is_a_whole_number_of_units(on_hand, ok):
    parsed = domain.parse_row("stock", ("sku", "on_hand"), row("A-1", on_hand))
    assert isinstance(parsed, StockRow) is ok


# --- receivables ----------------------------------------------------------------------------------


def test_a_receivable_row_reads_dates_and_amounts():
    parsed = receivable()
    assert isinstance(parsed, ReceivableRow)
    assert (parsed.issue_date, parsed.due_date) == (date(2024, 10, 1), date(2024, 10, 31))
    assert (parsed.original_amount, parsed.open_amount) == (Decimal("100.00"), Decimal("40.00"))


@pytest.mark.parametrize(
    ("changes", "field", "reason"),
    [
        ({"issue_date": "01/10/2024"}, "issue_date", "not a date like 2024-01-31"),
        ({"due_date": "2024-02-30"}, "due_date", "not a date like 2024-01-31"),
        ({"due_date": "2024-09-30"}, "due_date", "before the issue date 2024-10-01"),
        ({"issue_date": "0044-07-08"}, "issue_date", "from 2000-01-01 to 2099-12-31"),
        ({"due_date": "2100-01-01"}, "due_date", "from 2000-01-01 to 2099-12-31"),
        ({"open_amount": "0"}, "open_amount", "must be greater than 0"),
        ({"open_amount": "100.01"}, "open_amount", "more than the original amount 100.00"),
        ({"original_amount": "1,000.00"}, "original_amount", "no grouping"),
        ({"currency": "JPY", "original_amount": "100.5"}, "original_amount", "0 decimals"),
        ({"invoice_number": "INV#1"}, "invoice_number", "not a valid invoice number"),
    ],
)
def test_bad_receivables_are_refused_field_by_field(changes, field, reason):
    assert reason in fields(receivable(**changes))[field]


# --- chunks, report, events -----------------------------------------------------------------------


@given(
    st.lists(
        st.lists(st.text(max_size=300), min_size=2, max_size=2).map(tuple),
        min_size=0,
        max_size=120,
    )
)
def test_chunks_hand_over_every_row_once_in_order_within_the_limits(values):
    # Given any rows
    parsed = domain.ParsedFile(
        kind="stock",
        columns=("sku", "on_hand"),
        rows=tuple(SourceRow(row=n + 2, values=v) for n, v in enumerate(values)),
    )

    # When they are chunked
    chunks = domain.chunks(parsed)

    # Then every row is in one chunk, in order, chunks are numbered from 1 and fit a message
    assert [r for chunk in chunks for r in chunk.rows] == list(parsed.rows)
    assert [chunk.number for chunk in chunks] == list(range(1, len(chunks) + 1))
    for chunk in chunks:
        assert 1 <= len(chunk.rows) <= domain.CHUNK_ROWS
        body = json.dumps([list(r.values) for r in chunk.rows], ensure_ascii=False).encode()
        assert len(body) <= domain.CHUNK_BYTES
    assert domain.chunks(parsed) == chunks


def test_a_chunk_closes_early_when_its_rows_are_large():
    big = "x" * 4000  # two fields: 8 KB a row, 25 of them would pass 200 KB
    parsed = domain.ParsedFile(
        kind="stock",
        columns=("sku", "on_hand"),
        rows=tuple(SourceRow(row=n, values=(big, big)) for n in range(2, 102)),
    )
    sizes = [len(chunk.rows) for chunk in domain.chunks(parsed)]
    assert sum(sizes) == 100 and max(sizes) < domain.CHUNK_ROWS


def test_the_error_report_is_csv_by_row_and_quotes_what_it_must():
    report = domain.error_report(
        [RowError(7, "currency", 'not "EUR", sorry'), RowError(3, "", "the row has 2 fields")]
    )
    assert list(csv.reader(io.StringIO(report.decode()))) == [
        ["row", "field", "reason"],
        ["3", "", "the row has 2 fields"],
        ["7", "currency", 'not "EUR", sorry'],
    ]
    assert domain.error_report([]) == b"row,field,reason\r\n"


def test_an_imported_customer_event_is_the_api_s_with_the_import_as_actor():
    parsed = customer()
    assert isinstance(parsed, CustomerRow)
    account = parsed.customer(datetime(2024, 12, 31, tzinfo=UTC))
    event = domain.customer_imported(account, "imp_1", 4)
    assert (event.detail_type, event.source, event.aggregate_id) == (
        "CustomerCreated",
        "otc.accounts",
        "C-1",
    )
    assert event.data["actor"] == "import:imp_1"
    assert event.data["import"] == {"import_id": "imp_1", "row": 4}
    assert event.data["legal_name"] == "ACME"


@pytest.mark.parametrize(
    ("column", "value"),
    [
        ("legal_name", "ACME\x00GmbH"),
        ("line1", "Main\x851"),
        ("city", "Ber\ufffelin"),
        ("line2", "Hof\x07B"),
        ("region", "Mitte\tNord"),
    ],
)
def test_a_customer_row_with_a_control_character_is_an_error_at_its_column(column, value):
    # Given a customer row whose free text holds a control character or a non-character
    # When it is validated
    result = customer(**{column: value})

    # Then the row is reported with that column, and nothing of it is imported
    assert isinstance(result, list)
    assert [(error.row, error.field) for error in result] == [(2, column)]
    assert "U+" in result[0].reason


def test_a_catalog_row_with_a_control_character_in_its_name_is_an_error_at_the_name():
    # Given a catalog row whose item name holds a BEL
    columns = ("sku", "name", "unit", "tax_category", "currency", "unit_price")
    values = ("WID-1", "Widget\x07", "C62", "standard", "EUR", "10.00")

    # When it is validated
    result = domain.parse_row("catalog", columns, row(*values))

    # Then the name is the column to blame
    assert isinstance(result, list)
    assert [error.field for error in result] == ["name"]
