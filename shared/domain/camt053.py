"""ISO 20022 camt.053 bank statements (versions 001.02 to 001.13), read into credits to receive.

A statement file (``Document/BkToCstmrStmt``) holds one or more statements (``Stmt``) of an
account, each a list of entries (``Ntry``): what the bank booked. Only booked credits are money
received: an entry with ``CdtDbtInd`` ``CRDT`` and status ``BOOK`` (``Sts`` up to version 08,
``Sts/Cd`` from 09). Debits are counted and skipped; pending or informational entries too.

An entry is one payment, unless it is a batch: its ``NtryDtls/TxDtls`` then name several
transactions, one payment each with its own amount (which must add up to the entry's). Each
payment keeps what cash application matches on: the debtor's name and IBAN, the unstructured
remittance lines and the structured creditor references, the end-to-end id.

Entries are unique per account and entry reference (ISO 20022 makes ``AcctSvcrRef`` unique only
per account servicer and account; two accounts' statements may reuse one): each payment's
``entry_key`` is the statement's account (``Acct/Id/IBAN`` or ``Acct/Id/Othr/Id``) and its
reference - ``AcctSvcrRef``, else ``NtryRef``, with ``#<n>`` for the n-th transaction of a batch.
A bank that gives no reference gets a hash of the entry's content instead (account, booking and
value date, amount, currency, ``CdtDbtInd``, remittance, counterparty; the k-th identical entry
of a file adds ``-<k>``). The same entry reported in another file (an intraday statement and the
end-of-day one, or an overlapping statement) therefore becomes the same payment, once.

Reversals and returns are no payments: a booked entry with ``RvslInd`` true, or whose
transaction carries return information (``RtrInf``: ``Rsn/Cd`` such as AC04 or MS03), is a
``StatementReversal``. A debit one takes back a credit received before (it names the original by
``TxDtls/Refs``: ``AcctSvcrRef``, ``EndToEndId``, ``InstrId``); a credit one undoes a debit
(never a customer payment).

Free text (names, remittance, references) is taken on one line, with control characters and
non-characters replaced by spaces rather than refused: the money arrived either way.

The file is read with defusedxml (no entity expansion, no external references) and rejected
whole (``StatementError``) when it is not a camt.053 document or an entry lacks what a payment
needs: nothing of a bad file is imported.
"""

from __future__ import annotations

import dataclasses
import hashlib
import re
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any
from xml.etree.ElementTree import Element, ParseError

from defusedxml import DefusedXmlException
from defusedxml import ElementTree as SafeElementTree
from pydantic import ConfigDict

from shared.domain import dates
from shared.domain.money import UnknownCurrencyError, minor_units
from shared.domain.text import scrub
from shared.model import Model

NAMESPACE = re.compile(r"^urn:iso:std:iso:20022:tech:xsd:camt\.053\.001\.(\d{2})$")
VERSIONS = range(2, 14)  # 001.02 .. 001.13
NOT_PROVIDED = "NOTPROVIDED"
CREDIT, DEBIT = "CRDT", "DBIT"


class StatementError(ValueError):
    """The file is not a camt.053 statement this system can import (nothing of it is)."""


class StatementCredit(Model):
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
    account: str  # the statement's account: its IBAN, else its other id
    entry_key: str  # unique per account: "<account>:<external id>"
    instruction_id: str | None = None


class StatementReversal(Model):
    """A booked entry undoing an earlier one: ``RvslInd`` true, or a return (``RtrInf``).

    ``indicator`` DBIT: money received before went back (a credit reversed or returned);
    CRDT: a debit was undone. The ``original_*`` fields are what ``TxDtls/Refs`` names.
    """

    model_config = ConfigDict(frozen=True)

    external_id: str
    entry_key: str
    account: str
    statement_id: str
    entry_index: int
    transaction_index: int | None
    indicator: str
    reversal_indicator: bool  # RvslInd
    amount: Decimal
    currency: str
    booking_date: date | None
    value_date: date | None
    account_servicer_reference: str | None  # this entry's own
    original_account_servicer_reference: str | None
    end_to_end_id: str | None
    instruction_id: str | None
    return_reason: str | None  # RtrInf/Rsn/Cd (or Prtry)
    return_information: str | None  # RtrInf/AddtlInf, joined
    counterparty_name: str | None
    counterparty_iban: str | None
    remittance: str | None

    @property
    def of_credit(self) -> bool:
        """Does it take back money received (a debit), rather than undo a debit?"""
        return self.indicator == DEBIT

    @property
    def original_references(self) -> tuple[tuple[str, str], ...]:
        """(kind, value) of each reference naming the original, most specific first."""
        named = (
            ("acct_svcr_ref", self.original_account_servicer_reference),
            ("end_to_end_id", self.end_to_end_id),
            ("instruction_id", self.instruction_id),
        )
        return tuple((kind, value) for kind, value in named if value)


class Statement(Model):
    model_config = ConfigDict(frozen=True)

    statement_id: str
    account_iban: str | None
    credits: tuple[StatementCredit, ...]
    skipped_debits: int
    skipped_unbooked: int  # pending or informational credits (booked later, in another file)
    account: str = ""
    reversals: tuple[StatementReversal, ...] = ()


class StatementFile(Model):
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
    def reversals(self) -> tuple[StatementReversal, ...]:
        return tuple(found for statement in self.statements for found in statement.reversals)

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
    seen: Counter[str] = Counter()  # content hashes of entries without a reference
    statements = tuple(
        _statement(xml, element, position, seen)
        for position, element in enumerate(xml.findall(report, "Stmt"), start=1)
    )
    if not statements:
        raise StatementError("the document holds no statement (Stmt)")
    return StatementFile(
        version=f"001.{match.group(1)}",
        message_id=xml.text(report, "GrpHdr/MsgId"),
        statements=statements,
    )


def _statement(xml: _Reader, element: Element, position: int, seen: Counter[str]) -> Statement:
    statement_id = xml.text(element, "Id")
    if not statement_id:
        raise StatementError(f"statement {position} has no Id")
    iban = _compact(xml.text(element, "Acct/Id/IBAN"))
    account = iban or xml.text(element, "Acct/Id/Othr/Id")
    if not account:
        raise StatementError(
            f"statement {statement_id} names no account (Acct/Id/IBAN or Acct/Id/Othr/Id)"
        )
    credits: list[StatementCredit] = []
    reversals: list[StatementReversal] = []
    debits = unbooked = 0
    for index, entry in enumerate(xml.findall(element, "Ntry"), start=1):
        where = f"statement {statement_id}, entry {index}"
        indicator = xml.text(entry, "CdtDbtInd")
        if indicator not in (CREDIT, DEBIT):
            raise StatementError(f"{where}: CdtDbtInd is CRDT or DBIT, found {indicator!r}")
        booked = _status(xml, entry) == "BOOK"
        if not booked:
            if indicator == DEBIT:
                debits += 1
            else:
                unbooked += 1
            continue
        parts = _Entry.read(xml, entry, account, statement_id, index, where)
        if parts.reversal or parts.returned:
            reversals += [_reversal(xml, parts, part, seen) for part in parts.parts]
        elif indicator == DEBIT:
            debits += 1
        else:
            credits += [_credit(xml, parts, part, seen) for part in parts.parts]
    return Statement(
        statement_id=statement_id,
        account_iban=iban,
        credits=tuple(credits),
        skipped_debits=debits,
        skipped_unbooked=unbooked,
        account=account,
        reversals=tuple(reversals),
    )


def _status(xml: _Reader, entry: Element) -> str | None:
    """``Sts`` holds the code itself up to version 08, and a ``Cd`` child from 09."""
    return xml.text(entry, "Sts/Cd") or xml.text(entry, "Sts")


@dataclass(frozen=True)
class _Part:
    """One transaction of an entry: its details, its number in a batch, its amount."""

    details: Element | None
    number: int | None  # None: not a batch
    amount: Decimal


@dataclass(frozen=True)
class _Entry:
    """What every payment (or reversal) of one entry shares."""

    element: Element
    account: str
    statement_id: str
    index: int
    indicator: str
    currency: str
    reference: str | None  # AcctSvcrRef, else NtryRef
    booked: date | None
    valued: date | None
    reversal: bool  # RvslInd
    returned: bool  # a transaction carries return information (RtrInf)
    parts: tuple[_Part, ...]

    @classmethod
    def read(  # noqa: PLR0917 (where an entry is, in reading order)
        cls, xml: _Reader, element: Element, account: str, statement_id: str, index: int, where: str
    ) -> _Entry:
        amount, currency = _amount(xml, element, "Amt", where)
        parts = _parts(xml, element, amount, currency, where)
        return cls(
            element=element,
            account=account,
            statement_id=statement_id,
            index=index,
            indicator=xml.text(element, "CdtDbtInd") or "",
            currency=currency,
            reference=xml.text(element, "AcctSvcrRef") or xml.text(element, "NtryRef"),
            booked=_date(xml, element, "BookgDt", where),
            valued=_date(xml, element, "ValDt", where),
            reversal=_flag(xml.text(element, "RvslInd"), where),
            returned=any(
                part.details is not None and xml.find(part.details, "RtrInf") is not None
                for part in parts
            ),
            parts=parts,
        )

    def external_id(self, number: int | None, content: str, seen: Counter[str]) -> str:
        """The bank's reference (``#<n>`` in a batch), else the hash of ``content``."""
        if self.reference:
            return self.reference if number is None else f"{self.reference}#{number}"
        digest = hashlib.sha256(content.encode()).hexdigest()[:32]
        seen[digest] += 1
        occurrence = seen[digest]
        return f"entry-{digest}" if occurrence == 1 else f"entry-{digest}-{occurrence}"


def _parts(
    xml: _Reader, element: Element, amount: Decimal, currency: str, where: str
) -> tuple[_Part, ...]:
    transactions = list(xml.findall_path(element, "NtryDtls/TxDtls"))
    if len(transactions) <= 1:
        # One transaction: the booked amount is the payment (a TxDtls amount may be the
        # instructed one, in another currency or before charges).
        return (_Part(transactions[0] if transactions else None, None, amount),)
    found: list[_Part] = []
    for number, details in enumerate(transactions, start=1):
        part_where = f"{where}, transaction {number}"
        part_amount, part_currency = _transaction_amount(xml, details, part_where)
        if part_currency != currency:
            raise StatementError(
                f"{part_where}: the amount is in {part_currency}, the entry in {currency}"
            )
        found.append(_Part(details, number, part_amount))
    total = sum((part.amount for part in found), Decimal(0))
    if total != amount:
        raise StatementError(
            f"{where}: the batch's transactions add up to {total} {currency}, "
            f"the entry says {amount} {currency}"
        )
    return tuple(found)


@dataclass(frozen=True)
class _Details:
    """What a transaction says about who paid and why."""

    end_to_end: str | None = None
    instruction: str | None = None
    name: str | None = None
    iban: str | None = None
    unstructured: tuple[str, ...] = ()
    references: tuple[str, ...] = ()

    @classmethod
    def read(
        cls, xml: _Reader, entry: _Entry, details: Element | None, parties: tuple[str, ...]
    ) -> _Details:
        """``parties``: the roles (``Dbtr``, ``Cdtr``) naming the other party, first found."""
        found = cls()
        if details is not None:
            found = cls(
                end_to_end=_provided(xml.text(details, "Refs/EndToEndId")),
                instruction=_provided(xml.text(details, "Refs/InstrId")),
                name=_first(_party_name(xml, details, role) for role in parties),
                iban=_first(
                    _compact(xml.text(details, f"RltdPties/{role}Acct/Id/IBAN")) for role in parties
                ),
                unstructured=tuple(xml.texts(details, "RmtInf/Ustrd")),
                references=tuple(xml.texts(details, "RmtInf/Strd/CdtrRefInf/Ref")),
            )
        extra = xml.text(entry.element, "AddtlNtryInf")
        if extra and not found.unstructured and not found.references:
            found = dataclasses.replace(found, unstructured=(extra,))
        return found

    @property
    def remittance(self) -> str | None:
        return " ".join([*self.unstructured, *self.references]) or None

    def content(self, entry: _Entry, amount: Decimal) -> str:
        """What identifies an entry without a reference (see the module notes)."""
        facts = (
            entry.account,
            entry.booked.isoformat() if entry.booked else "",
            entry.valued.isoformat() if entry.valued else "",
            str(amount),
            entry.currency,
            entry.indicator,
            self.remittance or "",
            self.name or "",
            self.iban or "",
        )
        return "\x1f".join(facts)


def _credit(xml: _Reader, entry: _Entry, part: _Part, seen: Counter[str]) -> StatementCredit:
    details = _Details.read(xml, entry, part.details, ("Dbtr",))
    external_id = entry.external_id(part.number, details.content(entry, part.amount), seen)
    return StatementCredit(
        external_id=external_id,
        statement_id=entry.statement_id,
        entry_index=entry.index,
        transaction_index=part.number,
        amount=part.amount,
        currency=entry.currency,
        booking_date=entry.booked,
        value_date=entry.valued,
        account_servicer_reference=entry.reference,
        end_to_end_id=details.end_to_end,
        debtor_name=details.name,
        debtor_iban=details.iban,
        remittance=details.remittance,
        creditor_references=details.references,
        account=entry.account,
        entry_key=entry_key(entry.account, external_id),
        instruction_id=details.instruction,
    )


def _reversal(xml: _Reader, entry: _Entry, part: _Part, seen: Counter[str]) -> StatementReversal:
    # A return names the original's parties: the payer as debtor (or else as creditor)
    details = _Details.read(xml, entry, part.details, ("Dbtr", "Cdtr"))
    external_id = entry.external_id(part.number, details.content(entry, part.amount), seen)
    tx = part.details
    reason = info = original = None
    if tx is not None:
        reason = xml.text(tx, "RtrInf/Rsn/Cd") or xml.text(tx, "RtrInf/Rsn/Prtry")
        info = " ".join(xml.texts(tx, "RtrInf/AddtlInf")) or None
        original = xml.text(tx, "Refs/AcctSvcrRef")
    return StatementReversal(
        external_id=external_id,
        entry_key=entry_key(entry.account, external_id),
        account=entry.account,
        statement_id=entry.statement_id,
        entry_index=entry.index,
        transaction_index=part.number,
        indicator=entry.indicator,
        reversal_indicator=entry.reversal,
        amount=part.amount,
        currency=entry.currency,
        booking_date=entry.booked,
        value_date=entry.valued,
        account_servicer_reference=entry.reference,
        original_account_servicer_reference=original,
        end_to_end_id=details.end_to_end,
        instruction_id=details.instruction,
        return_reason=reason,
        return_information=info,
        counterparty_name=details.name,
        counterparty_iban=details.iban,
        remittance=details.remittance,
    )


def entry_key(account: str, reference: str) -> str:
    """An entry's key, unique per account: ``<account>:<reference>``."""
    return f"{account}:{reference}"


def _party_name(xml: _Reader, details: Element, role: str) -> str | None:
    return xml.text(details, f"RltdPties/{role}/Nm") or xml.text(
        details, f"RltdPties/{role}/Pty/Nm"
    )


def _first(values: Iterable[str | None]) -> str | None:
    return next((value for value in values if value), None)


def _provided(reference: str | None) -> str | None:
    return None if reference in (None, NOT_PROVIDED) else reference


def _flag(text: str | None, where: str) -> bool:
    """An xs:boolean (``RvslInd``): true/1 or false/0; absent is false."""
    if text is None:
        return False
    if text in ("true", "1"):
        return True
    if text in ("false", "0"):
        return False
    raise StatementError(f"{where}: RvslInd is true or false, found {text!r}")


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
        day = date.fromisoformat(text[:10])
    except ValueError:
        raise StatementError(f"{where}: {path} {text!r} is not a date") from None
    try:
        return dates.check_day(day)
    except dates.OutOfWindowError as error:
        raise StatementError(f"{where}: {path} {text[:10]}: {error}") from None


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
        "reversals": len(parsed.reversals),
        "skipped_debits": parsed.skipped_debits,
        "skipped_unbooked": parsed.skipped_unbooked,
    }
