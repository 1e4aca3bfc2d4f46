"""Reading camt.053 statements: every field a payment needs, old and new versions, and whole-file
rejection of anything malformed."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from shared.domain import camt053
from shared.domain.camt053 import StatementError

SAMPLE = Path(__file__).resolve().parents[2] / "events" / "camt053" / "statement.xml"


def document(entries: str, *, version: str = "02", statement: str = "S-1") -> bytes:
    """A statement file of ``entries`` (Ntry elements) in camt.053.001.<version>."""
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.{version}">
  <BkToCstmrStmt>
    <GrpHdr><MsgId>MSG-1</MsgId><CreDtTm>2026-11-20T18:00:00</CreDtTm></GrpHdr>
    <Stmt>
      <Id>{statement}</Id>
      <Acct><Id><IBAN>DE89 3704 0044 0532 0130 00</IBAN></Id></Acct>
      {entries}
    </Stmt>
  </BkToCstmrStmt>
</Document>""".encode()


def entry(
    amount: str = "100.00",
    *,
    currency: str = "EUR",
    indicator: str = "CRDT",
    status: str = "<Sts>BOOK</Sts>",
    reference: str | None = "REF-1",
    details: str = "",
) -> str:
    ref = f"<AcctSvcrRef>{reference}</AcctSvcrRef>" if reference else ""
    amount_element = f'<Amt Ccy="{currency}">{amount}</Amt>' if currency else f"<Amt>{amount}</Amt>"
    return f"""<Ntry>
      {amount_element}
      <CdtDbtInd>{indicator}</CdtDbtInd>
      {status}
      <BookgDt><Dt>2026-11-20</Dt></BookgDt>
      <ValDt><DtTm>2026-11-21T00:00:00+01:00</DtTm></ValDt>
      {ref}
      {details}
    </Ntry>"""


V02_DETAILS = """<NtryDtls><TxDtls>
  <Refs><EndToEndId>E2E-42</EndToEndId></Refs>
  <RltdPties>
    <Dbtr><Nm>Initech SARL</Nm></Dbtr>
    <DbtrAcct><Id><IBAN>FR14 2004 1010 0505 0001 3M02 606</IBAN></Id></DbtrAcct>
  </RltdPties>
  <RmtInf><Ustrd>INV-2026-000020</Ustrd><Ustrd>and 21</Ustrd></RmtInf>
</TxDtls></NtryDtls>"""


# --- the sample file (camt.053.001.08) ------------------------------------------------------------


def test_the_sample_statement_reads_into_its_booked_credits():
    # When
    parsed = camt053.parse(SAMPLE.read_bytes())

    # Then
    assert parsed.version == "001.08" and parsed.message_id == "COBA-20261120-0001"
    assert parsed.statement_id == "STMT-2026-11-20-0532013000"
    [statement] = parsed.statements
    assert statement.account_iban == "DE89370400440532013000"
    assert [c.external_id for c in parsed.credits] == [
        "COBA2026112000001",
        "COBA2026112000002",
        "COBA2026112000003#1",
        "COBA2026112000003#2",
        "COBA2026112000004",
    ]
    assert [c.amount for c in parsed.credits] == [
        Decimal("1190.00"),
        Decimal("845.50"),
        Decimal("1000.00"),
        Decimal("500.00"),
        Decimal("79.00"),
    ]
    assert parsed.skipped_debits == 1 and parsed.skipped_unbooked == 1


def test_each_field_of_a_version_08_entry_is_read():
    # When
    first = camt053.parse(SAMPLE.read_bytes()).credits[0]

    # Then
    assert first.currency == "EUR"
    assert first.booking_date == date(2026, 11, 20) and first.value_date == date(2026, 11, 20)
    assert first.account_servicer_reference == "COBA2026112000001"
    assert first.end_to_end_id == "ACME-PAY-88231"
    assert first.debtor_name == "ACME Retail GmbH"  # RltdPties/Dbtr/Pty/Nm
    assert first.debtor_iban == "DE02120300000000202051"  # spaces dropped
    assert first.creditor_references == ("RF50INV2026000017",)
    assert first.remittance == "INV-2026-000017 RF50INV2026000017"
    assert first.entry_index == 1 and first.transaction_index is None


def test_a_batch_entry_is_one_payment_per_transaction_with_its_own_amount_and_party():
    # When
    credits = camt053.parse(SAMPLE.read_bytes()).credits
    first, second = credits[2], credits[3]

    # Then
    assert (first.transaction_index, second.transaction_index) == (1, 2)
    assert first.debtor_name == "Initech SARL" and second.debtor_name == "Umbrella GmbH"
    assert first.remittance == "Invoice INV-2026-000020"
    assert second.creditor_references == ("RF39INV2026000021",)
    assert first.value_date == date(2026, 11, 21)


def test_not_provided_end_to_end_ids_are_none():
    # When
    noisy = camt053.parse(SAMPLE.read_bytes()).credits[1]

    # Then
    assert noisy.end_to_end_id is None
    assert noisy.remittance == "pmt inv 2026 18 + 19 thx globex ap dept"


# --- version 02 and others ------------------------------------------------------------------------


def test_a_version_02_entry_names_its_debtor_directly_and_its_status_as_text():
    # Given
    content = document(entry(details=V02_DETAILS), version="02")

    # When
    parsed = camt053.parse(content)

    # Then
    [credit] = parsed.credits
    assert parsed.version == "001.02"
    assert credit.debtor_name == "Initech SARL"
    assert credit.debtor_iban == "FR1420041010050500013M02606"
    assert credit.end_to_end_id == "E2E-42"
    assert credit.remittance == "INV-2026-000020 and 21"
    assert credit.value_date == date(2026, 11, 21)  # from ValDt/DtTm
    assert parsed.statements[0].account_iban == "DE89370400440532013000"


@pytest.mark.parametrize("version", ["02", "04", "08", "10", "13"])
def test_every_version_from_02_to_13_is_read(version):
    # Given
    status = "<Sts>BOOK</Sts>" if int(version) < 9 else "<Sts><Cd>BOOK</Cd></Sts>"

    # When
    parsed = camt053.parse(document(entry(status=status), version=version))

    # Then
    assert parsed.version == f"001.{version}" and len(parsed.credits) == 1


def test_debits_pending_and_informational_entries_are_counted_not_received():
    # Given
    entries = (
        entry(indicator="DBIT", reference="D1")
        + entry(status="<Sts>PDNG</Sts>", reference="P1")
        + entry(status="<Sts><Cd>INFO</Cd></Sts>", reference="I1")
        + entry(reference="B1")
    )

    # When
    parsed = camt053.parse(document(entries))

    # Then
    assert [c.external_id for c in parsed.credits] == ["B1"]
    assert parsed.skipped_debits == 1 and parsed.skipped_unbooked == 2


def test_an_entry_without_a_bank_reference_is_named_by_a_hash_of_its_content():
    # Given: two entries without a reference, differing in amount
    content = document(entry(reference=None) + entry("100.01", reference=None))

    # When
    first, second = camt053.parse(content).credits
    again = camt053.parse(content).credits[0]
    overlapping = camt053.parse(document(entry(reference=None), statement="S-2")).credits[0]

    # Then: stable across re-imports and across statements reporting the same entry
    assert first.external_id.startswith("entry-") and first.external_id != second.external_id
    assert again.entry_key == first.entry_key
    assert overlapping.entry_key == first.entry_key
    assert first.entry_key == f"DE89370400440532013000:{first.external_id}"


@pytest.mark.parametrize(
    "change",
    [
        ("<Dt>2026-11-20</Dt>", "<Dt>2026-11-19</Dt>"),  # booking date
        ("2026-11-21T00:00:00+01:00", "2026-11-22T00:00:00+01:00"),  # value date
        ("100.00", "100.10"),  # amount
        ('Ccy="EUR"', 'Ccy="CHF"'),  # currency
        ("INV-2026-000020", "INV-2026-000021"),  # remittance
        ("Initech SARL", "Initech SA"),  # counterparty
        ("FR14 2004", "FR76 2004"),  # counterparty account
    ],
)
def test_the_content_hash_covers_every_fact_of_the_entry(change):
    # Given
    original = entry(reference=None, details=V02_DETAILS)
    changed = original.replace(*change)
    assert changed != original

    # When
    [before] = camt053.parse(document(original)).credits
    [after] = camt053.parse(document(changed)).credits

    # Then
    assert before.entry_key != after.entry_key


def test_identical_entries_without_a_reference_in_one_file_are_two_payments():
    # Given: the same customer paid the same amount twice the same day, the bank gave no reference
    content = document(entry(reference=None) + entry(reference=None))

    # When
    first, second = camt053.parse(content).credits
    first_again, second_again = camt053.parse(content).credits

    # Then
    assert first.entry_key != second.entry_key
    assert (first_again.entry_key, second_again.entry_key) == (first.entry_key, second.entry_key)


def test_an_entry_reference_is_unique_per_account_only():
    # Given: two accounts' statements reusing one AcctSvcrRef
    ours = document(entry(reference="REF-1"))
    other = ours.replace(b"DE89 3704 0044 0532 0130 00", b"DE44 5001 0517 5407 3249 31")

    # When
    [credit] = camt053.parse(ours).credits
    [elsewhere] = camt053.parse(other).credits

    # Then
    assert credit.external_id == elsewhere.external_id == "REF-1"
    assert credit.entry_key == "DE89370400440532013000:REF-1"
    assert elsewhere.entry_key == "DE44500105175407324931:REF-1"


def test_an_account_without_iban_is_named_by_its_other_id_and_ntryref_names_the_entry():
    # Given
    content = document(entry(reference=None, details="<NtryRef>N-77</NtryRef>")).replace(
        b"<IBAN>DE89 3704 0044 0532 0130 00</IBAN>", b"<Othr><Id>0532013000</Id></Othr>"
    )

    # When
    parsed = camt053.parse(content)

    # Then
    assert parsed.statements[0].account == "0532013000"
    assert parsed.credits[0].entry_key == "0532013000:N-77"


def test_a_statement_without_account_is_refused():
    # Given
    content = document(entry()).replace(
        b"<Acct><Id><IBAN>DE89 3704 0044 0532 0130 00</IBAN></Id></Acct>", b""
    )

    # When / Then
    with pytest.raises(StatementError, match="names no account"):
        camt053.parse(content)


# --- reversals and returns ------------------------------------------------------------------------

RETURN_DETAILS = """<NtryDtls><TxDtls>
  <Refs><AcctSvcrRef>REF-1</AcctSvcrRef><InstrId>INSTR-9</InstrId><EndToEndId>E2E-42</EndToEndId></Refs>
  <RltdPties><Dbtr><Nm>Initech SARL</Nm></Dbtr></RltdPties>
  <RtrInf><Rsn><Cd>{reason}</Cd></Rsn><AddtlInf>Account closed</AddtlInf></RtrInf>
</TxDtls></NtryDtls>"""

REVERSAL_DETAILS = """<RvslInd>{flag}</RvslInd><NtryDtls><TxDtls>
  <Refs><EndToEndId>E2E-42</EndToEndId></Refs>
</TxDtls></NtryDtls>"""


def test_a_debit_with_reversal_indicator_reverses_a_credit_and_is_no_debit():
    # Given
    content = document(
        entry(indicator="DBIT", reference="REV-1", details=REVERSAL_DETAILS.format(flag="true"))
    )

    # When
    parsed = camt053.parse(content)

    # Then
    [reversal] = parsed.reversals
    assert parsed.credits == () and parsed.skipped_debits == 0
    assert reversal.of_credit and reversal.reversal_indicator
    assert reversal.amount == Decimal("100.00") and reversal.currency == "EUR"
    assert reversal.entry_key == "DE89370400440532013000:REV-1"
    assert reversal.original_references == (("end_to_end_id", "E2E-42"),)
    assert reversal.return_reason is None


def test_a_return_names_its_reason_code_and_the_original():
    # Given
    content = document(
        entry(indicator="DBIT", reference="RET-1", details=RETURN_DETAILS.format(reason="AC04"))
    )

    # When
    [reversal] = camt053.parse(content).reversals

    # Then
    assert reversal.of_credit and not reversal.reversal_indicator
    assert reversal.return_reason == "AC04" and reversal.return_information == "Account closed"
    assert reversal.original_references == (
        ("acct_svcr_ref", "REF-1"),
        ("end_to_end_id", "E2E-42"),
        ("instruction_id", "INSTR-9"),
    )
    assert reversal.counterparty_name == "Initech SARL"


def test_a_credit_with_reversal_indicator_undoes_a_debit_and_is_never_a_payment():
    # Given
    content = document(entry(reference="REV-2", details=REVERSAL_DETAILS.format(flag="1")))

    # When
    parsed = camt053.parse(content)

    # Then
    [reversal] = parsed.reversals
    assert parsed.credits == ()
    assert not reversal.of_credit and reversal.indicator == "CRDT"


def test_a_reversal_indicator_false_is_an_ordinary_entry():
    # Given
    content = document(entry(details=REVERSAL_DETAILS.format(flag="false")))

    # When
    parsed = camt053.parse(content)

    # Then
    assert len(parsed.credits) == 1 and parsed.reversals == ()


def test_a_reversal_indicator_that_is_no_boolean_is_refused():
    # When / Then
    with pytest.raises(StatementError, match="RvslInd is true or false"):
        camt053.parse(document(entry(details=REVERSAL_DETAILS.format(flag="yes"))))


def test_additional_entry_information_is_the_remittance_when_nothing_else_is():
    # Given
    content = document(entry(details="<AddtlNtryInf>Rechnung 4711</AddtlNtryInf>"))

    # When
    [credit] = camt053.parse(content).credits

    # Then
    assert credit.remittance == "Rechnung 4711"


def test_a_single_transaction_takes_the_booked_amount():
    # Given: the transaction states the instructed amount, before the bank's charges
    details = '<NtryDtls><TxDtls><Amt Ccy="EUR">100.50</Amt></TxDtls></NtryDtls>'

    # When
    [credit] = camt053.parse(document(entry("100.00", details=details))).credits

    # Then
    assert credit.amount == Decimal("100.00")


def test_amounts_of_zero_decimal_currencies_are_read():
    # When
    [credit] = camt053.parse(document(entry("5000", currency="JPY"))).credits

    # Then
    assert credit.amount == Decimal(5000) and credit.currency == "JPY"


# --- whole-file rejection -------------------------------------------------------------------------


BATCH_OF = """<NtryDtls>
  <TxDtls><Amt Ccy="EUR">{0}</Amt></TxDtls>
  <TxDtls><AmtDtls><TxAmt><Amt Ccy="{2}">{1}</Amt></TxAmt></AmtDtls></TxDtls>
</NtryDtls>"""


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"<Document><unclosed></Document>", "not well-formed"),
        (b"", "not well-formed"),
        (b"not xml at all", "not well-formed"),
        (
            b'<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.054.001.08"/>',
            "not a camt.053",
        ),
        (b"<Document/>", "not a camt.053"),
        (
            b'<Other xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.08"/>',
            "not a camt.053",
        ),
        (
            b'<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.01"/>',
            "not a camt.053",
        ),
        (
            b'<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.08"/>',
            "no BkToCstmrStmt",
        ),
        (
            b'<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.08">'
            b"<BkToCstmrStmt><GrpHdr/></BkToCstmrStmt></Document>",
            "holds no statement",
        ),
        (document("", statement=""), "has no Id"),
        (document(entry(currency="")), "no currency"),
        (document(entry("")), r"amount \(Amt\) is missing"),
        (document(entry("12,50")), "not a decimal number"),
        (document(entry("1e3")), "not a decimal number"),
        (document(entry("0.00")), "not above 0"),
        (document(entry("10.001")), "more decimals than EUR"),
        (document(entry("10", currency="ZZZ")), "not an ISO 4217 currency"),
        (document(entry(indicator="CRED")), "CdtDbtInd is CRDT or DBIT"),
        (document(entry(details=BATCH_OF.format("60.00", "30.00", "EUR"))), "add up to 90.00"),
        (document(entry(details=BATCH_OF.format("60.00", "40.00", "USD"))), "in USD"),
        (
            document(entry(details="<NtryDtls><TxDtls/><TxDtls/></NtryDtls>")),
            "has no amount",
        ),
    ],
)
def test_a_malformed_file_is_rejected_whole_with_a_clear_message(content, message):
    # When / Then
    with pytest.raises(StatementError, match=message):
        camt053.parse(content)


def test_a_good_entry_does_not_save_a_file_with_a_bad_one():
    # Given
    content = document(entry(reference="GOOD") + entry("abc", reference="BAD"))

    # When / Then
    with pytest.raises(StatementError, match="entry 2"):
        camt053.parse(content)


def test_entity_expansion_is_refused():
    # Given: a "billion laughs" document
    content = b"""<?xml version="1.0"?>
<!DOCTYPE Document [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]>
<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.08">&b;</Document>"""

    # When / Then
    with pytest.raises(StatementError, match="not well-formed"):
        camt053.parse(content)


def test_control_characters_in_free_text_become_spaces_and_the_file_is_read():
    # Given an entry whose debtor name and remittance lines hold C1 controls and a non-character
    # (XML 1.0 lets them through; a NUL could not be in a well-formed file at all)
    details = V02_DETAILS.replace("Initech SARL", "Initech\x85SARL").replace(
        "<Ustrd>and 21</Ustrd>", "<Ustrd>and\x9b21\ufdd0</Ustrd>"
    )

    # When the file is read
    [credit] = camt053.parse(document(entry(details=details))).credits

    # Then the payment is there, its text on one line without the controls
    assert credit.debtor_name == "Initech SARL"
    assert credit.remittance == "INV-2026-000020 and 21"


def test_a_batch_of_returns_is_one_reversal_per_transaction_with_its_own_reason():
    # Given a direct-debit style batch: two returned transactions booked as one debit entry
    details = """<NtryDtls>
      <TxDtls><Amt Ccy="EUR">60.00</Amt><Refs><EndToEndId>E2E-1</EndToEndId></Refs>
        <RtrInf><Rsn><Cd>AC04</Cd></Rsn></RtrInf></TxDtls>
      <TxDtls><Amt Ccy="EUR">40.00</Amt><Refs><EndToEndId>E2E-2</EndToEndId></Refs>
        <RtrInf><Rsn><Prtry>BANK-77</Prtry></Rsn></RtrInf></TxDtls>
    </NtryDtls>"""

    # When
    first, second = camt053.parse(
        document(entry(indicator="DBIT", reference="RET-B", details=details))
    ).reversals

    # Then
    assert (first.entry_key, first.amount, first.return_reason) == (
        "DE89370400440532013000:RET-B#1",
        Decimal("60.00"),
        "AC04",
    )
    assert (second.entry_key, second.amount, second.return_reason) == (
        "DE89370400440532013000:RET-B#2",
        Decimal("40.00"),
        "BANK-77",
    )
    assert second.original_references == (("end_to_end_id", "E2E-2"),)


def test_a_reversal_without_a_reference_is_keyed_by_its_content_stable_across_files():
    # Given
    reversing = entry(
        indicator="DBIT", reference=None, details=REVERSAL_DETAILS.format(flag="true")
    )

    # When
    [once] = camt053.parse(document(reversing)).reversals
    [again] = camt053.parse(document(reversing, statement="S-9")).reversals

    # Then
    assert once.external_id.startswith("entry-") and once.entry_key == again.entry_key
