"""Bank statements (camt.053) become payments: posted to the API or dropped in the bucket inbox.

Both ways run ``import_statement``: the file is kept in S3 (``statements/<sha256>.xml``), the
import is recorded under the file's SHA-256 (the same bytes again import nothing and answer the
first import's summary), and every booked credit becomes one payment in its own transaction
(payment, source guard, ledger receipt, ``PaymentReceived``). The source guard is the entry's
key - the account and the bank's entry reference, or a hash of the entry's content - so an entry
already imported from another file (an intraday statement, then the end-of-day one) is counted
as a duplicate and adds nothing. Reversals and returns then take their original payments back,
or wait on the worklist (functions/payments/bank_reversals.py), once per entry as well.

The inbox: objects created under ``inbox/camt053/`` reach the ``bank-statements`` queue (S3 ->
the default bus -> a rule). A file that cannot be imported leaves an error report at
``inbox/camt053/errors/<name>.txt`` and no payment; its message is consumed, not retried. Any
other failure (AWS slow or throttled) fails the message, which SQS delivers again; when its last
delivery fails too, the statement is marked ``failed`` with the reason (and the message goes
to the DLQ, whose redrive imports it again), so no import stays ``importing``.
"""

from __future__ import annotations

import hashlib
import posixpath
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, time
from typing import Any
from urllib.parse import unquote_plus

from pydantic import ConfigDict

from functions.payments.bank_reversals import DUPLICATE, act_on
from shared import clock, errors
from shared.adapters import documents
from shared.adapters.bus_events import ObjectCreated
from shared.domain import camt053
from shared.domain import payment as payment_domain
from shared.domain.camt053 import StatementCredit, StatementError, StatementFile
from shared.domain.payment import Payment, PaymentMethod
from shared.model import Model
from shared.observability import logger
from shared.store import bank_reversals, payments, statements
from shared.store.bank_reversals import HELD, REVERSED
from shared.store.payments import DuplicatePaymentError

INBOX = "inbox/camt053/"
ERRORS = INBOX + "errors/"
ARCHIVE = "statements/"
# Through the API a file of up to STATEMENT_SYNC_MAX_BYTES is imported while the caller waits
# (API Gateway gives up after 29 s); a larger one, up to this, is stored for the worker
# (queue_statement.py). Larger files still are dropped in the inbox.
MAX_UPLOAD_BYTES = 2 * 1024 * 1024
MAX_FILE_BYTES = 10 * 1024 * 1024  # dropped in the inbox
MAX_RECEIVES = 5  # the bank-statements queue's maxReceiveCount (infra/resources.yaml)
# The worker stops this long before its Lambda times out, so that the failure path runs (a
# Lambda killed at its timeout could not mark the statement failed on its last attempt).
RESERVE_SECONDS = 10.0
XML = "application/xml"


class StatementFingerprint(Model):
    """What an Idempotency-Key is bound to: the file's SHA-256."""

    model_config = ConfigDict(frozen=True)

    sha256: str


class OutOfTimeError(RuntimeError):
    """The worker's time ran out before every credit was received; the next delivery goes on."""


@dataclass(frozen=True)
class StatementUpload:
    content: bytes
    parsed: StatementFile
    fingerprint: StatementFingerprint


@dataclass(frozen=True)
class StatementImport:
    summary: dict[str, Any]
    first: bool  # False: this file was imported before, and the summary is that import's


def receive(raw_body: bytes | str | None) -> StatementUpload:
    """``POST /bank-statements``: the file, once it is one the import would not refuse."""
    content = raw_body.encode() if isinstance(raw_body, str) else raw_body or b""
    if len(content) > MAX_UPLOAD_BYTES:
        raise errors.TooLarge(
            f"the file exceeds {MAX_UPLOAD_BYTES} bytes through the API; drop files of up to "
            f"{MAX_FILE_BYTES} bytes in the bucket under {INBOX}",
        )
    try:
        parsed = camt053.parse(content)
    except StatementError as invalid:
        raise errors.Unprocessable("invalid-statement", str(invalid)) from None
    digest = hashlib.sha256(content).hexdigest()
    return StatementUpload(content, parsed, StatementFingerprint(sha256=digest))


def import_statement(
    upload: StatementUpload, *, by: str, time_left: Callable[[], float] | None = None
) -> StatementImport:
    """Receive every booked credit of the file once; the summary of this file's import.

    ``time_left``: the seconds the worker has left; under ``RESERVE_SECONDS`` it stops with
    ``OutOfTimeError`` (what it received stays, and the next run skips it).
    """
    sha256 = upload.fingerprint.sha256
    if (summary := statements.summary_of(sha256)) is not None:
        logger.info("statement imported before", extra={"sha256": sha256})
        return StatementImport(summary, first=False)
    key = f"{ARCHIVE}{sha256}.xml"
    documents.write(key, upload.content, content_type=XML, metadata={"imported-by": by})
    parsed = upload.parsed
    statements.begin(sha256, statement_id=parsed.statement_id, key=key, by=by)
    received: list[str] = []
    duplicates = 0
    for done, credit in enumerate(parsed.credits):
        if time_left is not None and time_left() < RESERVE_SECONDS:
            raise OutOfTimeError(f"out of time after {done} of {len(parsed.credits)} credits")
        payment = _payment(credit, parsed, sha256, by)
        try:
            payments.receive(payment, extra=bank_reversals.references(payment))
            received.append(payment.payment_id)
        except DuplicatePaymentError as duplicate:
            if _from_this_file(duplicate.payment_id, sha256):
                received.append(str(duplicate.payment_id))  # an interrupted run got this far
            else:
                duplicates += 1
    outcomes: dict[str, list[str]] = {REVERSED: [], HELD: [], DUPLICATE: []}
    for done, reversal in enumerate(parsed.reversals):
        if time_left is not None and time_left() < RESERVE_SECONDS:
            raise OutOfTimeError(f"out of time after {done} of {len(parsed.reversals)} reversals")
        outcome = act_on(reversal, statement_sha256=sha256)
        reversed_payment = outcome.kind == REVERSED and outcome.payment_id
        outcomes[outcome.kind].append(reversed_payment or outcome.entry_key)
    summary = {
        "statement_id": parsed.statement_id,
        "file_sha256": sha256,
        "payments": received,
        "skipped_debits": parsed.skipped_debits,
        "skipped_unbooked": parsed.skipped_unbooked,
        "duplicates": duplicates + len(outcomes[DUPLICATE]),
        "reversed_payments": outcomes[REVERSED],
        "held_reversals": outcomes[HELD],
    }
    statements.complete(sha256, summary)
    logger.info("statement imported", extra={**camt053.summary(parsed), "payments": len(received)})
    return StatementImport(summary, first=True)


def import_from_message(
    body: str, receive_count: int = 1, time_left: Callable[[], float] | None = None
) -> StatementImport | None:
    """One SQS message of the inbox: S3's "Object Created" event as EventBridge delivers it.

    ``receive_count``: SQS's ApproximateReceiveCount; at ``MAX_RECEIVES`` a failure is final.
    """
    envelope = ObjectCreated.model_validate_json(body)
    return import_dropped(
        envelope.detail.bucket.name,
        envelope.detail.object.key,
        last_attempt=receive_count >= MAX_RECEIVES,
        time_left=time_left,
    )


def import_dropped(
    bucket: str,
    key: str,
    *,
    last_attempt: bool = False,
    time_left: Callable[[], float] | None = None,
) -> StatementImport | None:
    """Import a file dropped in the inbox; None when it is none (ignored) or was refused.

    A failure is raised (the message is delivered again); on the ``last_attempt`` the statement
    is marked ``failed`` with the reason first.
    """
    if bucket != documents.bucket() or not key.startswith(INBOX) or key.startswith(ERRORS):
        logger.info("not a statement in the inbox; ignored", extra={"key": key})
        return None
    try:
        stored = _read(key)
    except documents.NoSuchObjectError:
        logger.warning("the statement is gone; nothing to import", extra={"key": key})
        return None
    except documents.ObjectTooLargeError:
        _report(key, f"the file is larger than {MAX_FILE_BYTES} bytes; split it")
        return None
    try:
        parsed = camt053.parse(stored.content)
    except StatementError as invalid:
        _report(stored.key, str(invalid))
        return None
    digest = hashlib.sha256(stored.content).hexdigest()
    upload = StatementUpload(stored.content, parsed, StatementFingerprint(sha256=digest))
    by = stored.metadata.get("uploaded-by") or "inbox"
    try:
        return import_statement(upload, by=by, time_left=time_left)
    except Exception as error:
        if last_attempt:
            reason = f"the import failed {MAX_RECEIVES} times; the last time: {error!r}"
            logger.exception("statement import failed for good", extra={"sha256": digest})
            statements.fail(digest, reason)
        raise


def error_report_key(key: str) -> str:
    name = posixpath.basename(key) or "statement"
    return f"{ERRORS}{name}.txt"


def _payment(credit: StatementCredit, parsed: StatementFile, sha256: str, by: str) -> Payment:
    statement = next(s for s in parsed.statements if s.statement_id == credit.statement_id)
    facts = {
        "statement_id": credit.statement_id,
        "statement_sha256": sha256,
        "entry": str(credit.entry_index),
        "transaction": str(credit.transaction_index) if credit.transaction_index else None,
        "account_iban": statement.account_iban,
        "account": credit.account,
        payment_domain.ENTRY_KEY: credit.entry_key,
        "instruction_id": credit.instruction_id,
        "end_to_end_id": credit.end_to_end_id,
        "booking_date": credit.booking_date.isoformat() if credit.booking_date else None,
        "value_date": credit.value_date.isoformat() if credit.value_date else None,
        "creditor_references": " ".join(credit.creditor_references) or None,
        "imported_by": by,
    }
    day = credit.booking_date or credit.value_date
    return payment_domain.receive(
        source=payment_domain.BANK,
        external_id=credit.external_id,
        method=PaymentMethod.BANK_TRANSFER,
        amount=credit.amount,
        currency=credit.currency,
        received_at=datetime.combine(day, time(), tzinfo=UTC) if day else clock.now(),
        payer_name=credit.debtor_name,
        payer_account=credit.debtor_iban,
        remittance=credit.remittance,
        metadata={name: value for name, value in facts.items() if value},
    )


def _from_this_file(payment_id: str | None, sha256: str) -> bool:
    existing = payments.get(payment_id) if payment_id else None
    return existing is not None and existing.metadata.get("statement_sha256") == sha256


def _read(key: str) -> documents.StoredObject:
    """The object; S3 notifications may give the key URL-encoded ("a+b.xml" for "a b.xml")."""
    try:
        return documents.read(key, limit=MAX_FILE_BYTES)
    except (documents.NoSuchObjectError, documents.ObjectAccessDeniedError):
        decoded = unquote_plus(key)
        if decoded == key:
            raise
        return documents.read(decoded, limit=MAX_FILE_BYTES)


def _report(key: str, reason: str) -> None:
    report = f"{key}\nrejected at {clock.iso(clock.now())}; nothing was imported.\n\n{reason}\n"
    documents.write(error_report_key(key), report.encode(), content_type="text/plain")
    logger.warning("statement rejected", extra={"key": key, "reason": reason})
