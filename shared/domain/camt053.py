"""ISO 20022 camt.053 bank statements (versions 001.02 to 001.13), read into credits to receive.

A statement file (``Document/BkToCstmrStmt``) holds one or more statements (``Stmt``) of an
account, each a list of entries (``Ntry``): what the bank booked. Only booked credits are money
received: an entry with ``CdtDbtInd`` ``CRDT`` and status ``BOOK`` (``Sts`` up to version 08,
``Sts/Cd`` from 09). Debits are counted and skipped; pending or informational entries too.

An entry is one payment, unless it is a batch: its ``NtryDtls/TxDtls`` then name several
transactions, one payment each with its own amount (which must add up to the entry's). Each
payment keeps what cash application matches on: the debtor's name and IBAN, the unstructured
remittance lines and the structured creditor references, the end-to-end id.

Each payment's external id is the bank's entry reference (``AcctSvcrRef``), with ``#<n>`` for
the n-th transaction of a batch, or - for banks that give no reference - a hash of the statement
id and the entry's position. The same entry reported in another file (an intraday statement and
the end-of-day one) therefore becomes the same payment, once.

Free text (names, remittance, references) is taken on one line, with control characters and
non-characters replaced by spaces rather than refused: the money arrived either way.

The file is read with defusedxml (no entity expansion, no external references) and rejected
whole (``StatementError``) when it is not a camt.053 document or an entry lacks what a payment
needs: nothing of a bad file is imported.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any
from xml.etree.ElementTree import Element, ParseError

from defusedxml import DefusedXmlException
from defusedxml import ElementTree as SafeElementTree
from pydantic import BaseModel, ConfigDict

from shared.domain.money import UnknownCurrencyError, minor_units
from shared.domain.text import scrub

NAMESPACE = re.compile(r"^urn:iso:std:iso:20022:tech:xsd:camt\.053\.001\.(\d{2})$")
VERSIONS = range(2, 14)  # 001.02 .. 001.13
NOT_PROVIDED = "NOTPROVIDED"


class StatementError(ValueError):
    """The file is not a camt.053 statement this system can import (nothing of it is)."""


class StatementCredit(BaseModel):
    """One payment received, as the statement reports it."""

    model_config = ConfigDict(frozen=True)

    external_id: str
    statement_id: str
    entry_index: int  # the entry's position in its statement, from 1
    transaction_index: int | None  # its position in a batch entry, from 1 (None: not a batch)
    amount: Decimal
    currency: str
    booking_date: date | None
    value_date: date | None
    account_servicer_reference: str | None
    end_to_end_id: str | None
    debtor_name: str | None
    debtor_iban: str | None
    remittance: str | None  # the unstructured lines and the creditor references, joined
    creditor_references: tuple[str, ...]  # structured (e.g. ISO 11649 RF references)


class Statement(BaseModel):
    model_config = ConfigDict(frozen=True)

    statement_id: str
    account_iban: str | None
    credits: tuple[StatementCredit, ...]
    skipped_debits: int
    skipped_unbooked: int  # pending or informational credits (booked later, in another file)


class StatementFile(BaseModel):
    model_config = ConfigDict(frozen=True)

    version: str  # "001.08"
    message_id: str | None
    statements: tuple[Statement, ...]

    @property
    def statement_id(self) -> str:
        """The id of the file's statement (several: their ids joined by commas)."""
        return ",".join(statement.statement_id for statement in self.statements)

    @property
    def credits(self) -> tuple[StatementCredit, ...]:
        return tuple(credit for statement in self.statements for credit in statement.credits)

    @property
    def skipped_debits(self) -> int:
        return sum(statement.skipped_debits for statement in self.statements)

    @property
    def skipped_unbooked(self) -> int:
        return sum(statement.skipped_unbooked for statement in self.statements)


def parse(content: bytes) -> StatementFile:
    """The statements in a camt.053 file; raises ``StatementError`` for a file it refuses."""
    try:
        root = SafeElementTree.fromstring(content)
    except (ParseError, DefusedXmlException) as error:
        raise StatementError(f"the file is not well-formed XML: {error}") from None
    namespace, _, local = root.tag[1:].partition("}") if root.tag.startswith("{") else ("", "", "")
    match = NAMESPACE.fullmatch(namespace)
    if local != "Document" or match is None or int(match.group(1)) not in VERSIONS:
        raise StatementError(
            "not a camt.053 statement: the root must be Document in the namespace "
            "urn:iso:std:iso:20022:tech:xsd:camt.053.001.NN (NN from 02 to 13), "
            f"found {root.tag!r}"
        )
    xml = _Reader(namespace)
    report = xml.find(root, "BkToCstmrStmt")
    if report is None:
        raise StatementError("the document has no BkToCstmrStmt")
    statements = tuple(
        _statement(xml, element, position)
        for position, element in enumerate(xml.findall(report, "Stmt"), start=1)
    )
    if not statements:
        raise StatementError("the document holds no statement (Stmt)")
    return StatementFile(
        version=f"001.{match.group(1)}",
        message_id=xml.text(report, "GrpHdr/MsgId"),
        statements=statements,
    )


def _statement(xml: _Reader, element: Element, position: int) -> Statement:
    statement_id = xml.text(element, "Id")
    if not statement_id:
        raise StatementError(f"statement {position} has no Id")
    credits: list[StatementCredit] = []
    debits = unbooked = 0
    for index, entry in enumerate(xml.findall(element, "Ntry"), start=1):
        where = f"statement {statement_id}, entry {index}"
        indicator = xml.text(entry, "CdtDbtInd")
        if indicator == "DBIT":
            debits += 1
            continue
        if indicator != "CRDT":
            raise StatementError(f"{where}: CdtDbtInd is CRDT or DBIT, found {indicator!r}")
        if _status(xml, entry) != "BOOK":
            unbooked += 1
            continue
        credits += _credits(xml, entry, statement_id, index, where)
    return Statement(
        statement_id=statement_id,
        account_iban=_compact(xml.text(element, "Acct/Id/IBAN")),
        credits=tuple(credits),
        skipped_debits=debits,
        skipped_unbooked=unbooked,
    )


def _status(xml: _Reader, entry: Element) -> str | None:
    """``Sts`` holds the code itself up to version 08, and a ``Cd`` child from 09."""
    return xml.text(entry, "Sts/Cd") or xml.text(entry, "Sts")


@dataclass(frozen=True)
class _Entry:
    """What every payment of one entry shares."""

    element: Element
    statement_id: str
    index: int
    currency: str
    reference: str | None  # AcctSvcrRef
    booked: date | None
    valued: date | None

    @property
    def base_id(self) -> str:
        return self.reference or _anonymous_id(self.statement_id, self.index)


def _credits(
    xml: _Reader, element: Element, statement_id: str, index: int, where: str
) -> list[StatementCredit]:
    amount, currency = _amount(xml, element, "Amt", where)
    entry = _Entry(
        element=element,
        statement_id=statement_id,
        index=index,
        currency=currency,
        reference=xml.text(element, "AcctSvcrRef"),
        booked=_date(xml, element, "BookgDt", where),
        valued=_date(xml, element, "ValDt", where),
    )
    transactions = list(xml.findall_path(element, "NtryDtls/TxDtls"))
    if len(transactions) <= 1:
        # One transaction: the booked amount is the payment (a TxDtls amount may be the
        # instructed one, in another currency or before charges).
        return [_credit(xml, entry, transactions[0] if transactions else None, None, amount)]
    found: list[StatementCredit] = []
    for number, details in enumerate(transactions, start=1):
        part_where = f"{where}, transaction {number}"
        part_amount, part_currency = _transaction_amount(xml, details, part_where)
        if part_currency != currency:
            raise StatementError(
                f"{part_where}: the amount is in {part_currency}, the entry in {currency}"
            )
        found.append(_credit(xml, entry, details, number, part_amount))
    total = sum((credit.amount for credit in found), Decimal(0))
    if total != amount:
        raise StatementError(
            f"{where}: the batch's transactions add up to {total} {currency}, "
            f"the entry says {amount} {currency}"
        )
    return found


def _credit(
    xml: _Reader, entry: _Entry, details: Element | None, number: int | None, amount: Decimal
) -> StatementCredit:
    unstructured: list[str] = []
    references: list[str] = []
    end_to_end = name = iban = None
    if details is not None:
        end_to_end = xml.text(details, "Refs/EndToEndId")
        name = xml.text(details, "RltdPties/Dbtr/Nm") or xml.text(details, "RltdPties/Dbtr/Pty/Nm")
        iban = _compact(xml.text(details, "RltdPties/DbtrAcct/Id/IBAN"))
        unstructured = xml.texts(details, "RmtInf/Ustrd")
        references = xml.texts(details, "RmtInf/Strd/CdtrRefInf/Ref")
    if not unstructured and not references and (extra := xml.text(entry.element, "AddtlNtryInf")):
        unstructured = [extra]
    return StatementCredit(
        external_id=entry.base_id if number is None else f"{entry.base_id}#{number}",
        statement_id=entry.statement_id,
        entry_index=entry.index,
        transaction_index=number,
        amount=amount,
        currency=entry.currency,
        booking_date=entry.booked,
        value_date=entry.valued,
        account_servicer_reference=entry.reference,
        end_to_end_id=None if end_to_end in (None, NOT_PROVIDED) else end_to_end,
        debtor_name=name,
        debtor_iban=iban,
        remittance=" ".join([*unstructured, *references]) or None,
        creditor_references=tuple(references),
    )


def _transaction_amount(xml: _Reader, details: Element, where: str) -> tuple[Decimal, str]:
    """A batch transaction's own amount: ``Amt`` (version 05 on) or ``AmtDtls/TxAmt/Amt``."""
    for path in ("Amt", "AmtDtls/TxAmt/Amt"):
        if xml.find(details, path) is not None:
            return _amount(xml, details, path, where)
    raise StatementError(f"{where}: a transaction of a batch entry has no amount")


def _amount(xml: _Reader, element: Element, path: str, where: str) -> tuple[Decimal, str]:
    found = xml.find(element, path)
    if found is None or not (found.text or "").strip():
        raise StatementError(f"{where}: the amount ({path}) is missing")
    currency = (found.get("Ccy") or "").strip()
    if not currency:
        raise StatementError(f"{where}: the amount has no currency (Ccy)")
    try:
        places = minor_units(currency)
    except UnknownCurrencyError:
        raise StatementError(f"{where}: {currency!r} is not an ISO 4217 currency") from None
    text = (found.text or "").strip()
    if not re.fullmatch(r"\d{1,15}(\.\d+)?", text):
        raise StatementError(f"{where}: the amount {text!r} is not a decimal number")
    try:
        amount = Decimal(text)
    except InvalidOperation:
        raise StatementError(f"{where}: the amount {text!r} is not a decimal number") from None
    if amount <= 0:
        raise StatementError(f"{where}: the amount {text} is not above 0")
    if len(text.partition(".")[2].rstrip("0")) > places:
        raise StatementError(f"{where}: the amount {text} has more decimals than {currency} has")
    return amount.quantize(Decimal(1).scaleb(-places)), currency


def _date(xml: _Reader, entry: Element, path: str, where: str) -> date | None:
    text = xml.text(entry, f"{path}/Dt") or xml.text(entry, f"{path}/DtTm")
    if text is None:
        return None
    try:
        return date.fromisoformat(text[:10])
    except ValueError:
        raise StatementError(f"{where}: {path} {text!r} is not a date") from None


def _anonymous_id(statement_id: str, index: int) -> str:
    """An entry's id when the bank gives no reference: its statement and position."""
    return "entry-" + hashlib.sha256(f"{statement_id}#{index}".encode()).hexdigest()[:32]


def _compact(iban: str | None) -> str | None:
    return "".join(iban.split()).upper() if iban else None


class _Reader:
    """Paths of local names in one namespace (``"RltdPties/Dbtr/Nm"``)."""

    def __init__(self, namespace: str) -> None:
        self._prefix = f"{{{namespace}}}"

    def _path(self, path: str) -> str:
        return "/".join(self._prefix + part for part in path.split("/"))

    def find(self, element: Element, path: str) -> Element | None:
        return element.find(self._path(path))

    def findall(self, element: Element, path: str) -> list[Element]:
        return element.findall(self._path(path))

    def findall_path(self, element: Element, path: str) -> Iterator[Element]:
        yield from element.iterfind(self._path(path))

    def text(self, element: Element, path: str) -> str | None:
        found = self.find(element, path)
        return _one_line(found.text) if found is not None else None

    def texts(self, element: Element, path: str) -> list[str]:
        values = (_one_line(found.text) for found in self.findall(element, path))
        return [value for value in values if value]


def _one_line(text: str | None) -> str | None:
    """An element's text on one line, controls as spaces: XML 1.0 lets C1 controls and
    non-characters through, and one in a remittance line is no reason to refuse a bank file."""
    return " ".join(scrub(text or "", " ").split()) or None


def summary(parsed: StatementFile) -> dict[str, Any]:
    """What a statement file holds, in brief (for logs)."""
    return {
        "version": parsed.version,
        "statement_id": parsed.statement_id,
        "credits": len(parsed.credits),
        "skipped_debits": parsed.skipped_debits,
        "skipped_unbooked": parsed.skipped_unbooked,
    }
