"""Bank reversals and returns (camt.053 ``RvslInd``, ``RtrInf``): the original payment goes back.

A debit entry reversing or returning a credit names the original in ``TxDtls/Refs``
(``AcctSvcrRef``, ``EndToEndId``, ``InstrId``; looked for in the reversal's own account). When
that names exactly one payment received into the account, in the same currency and amount and
neither refunded nor reversed before, it is reversed in ONE transaction (``settlement.CashMove``):
every allocation is taken back (each invoice reopens by exactly what this payment paid it), the
cash goes out in the ledger (``bank_reversal``: DR unapplied cash, CR cash), the payment is
``reversed`` (its metadata names the reversal entry and the return reason), with
``PaymentReversed`` and ``InvoiceReopened`` per invoice, and the reversal's record.

Anything else is held for a clerk on the worklist (``GET /payments?status=held``) with the reason
and changes no payment or invoice: an original not found (or ambiguous), a reversal that does
not undo it exactly, and a credit entry undoing a debit (the bank gave a fee back, a transfer of
ours came back): never a customer payment.

The reversal's record (shared/store/bank_reversals.py) is written in the same transaction, so
the same entry reported again (an overlapping statement, an interrupted import run again) acts
once.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from functions.payments.settlement import (
    BrokenInvariantError,
    CashMove,
    UnknownInvoiceError,
    payment_event,
)
from shared import clock
from shared.domain import payment as payment_domain
from shared.domain.camt053 import StatementReversal, entry_key
from shared.domain.events import DomainEvent
from shared.domain.payment import NotReversibleError, Payment
from shared.observability import logger
from shared.store import bank_reversals, outbox, payments
from shared.store.bank_reversals import HELD, REVERSED
from shared.store.outbox import StaleStateError

ATTEMPTS = 5
DUPLICATE = "duplicate"
SOURCE = payment_domain.SOURCE


@dataclass(frozen=True)
class Outcome:
    """What one reversal entry did: ``reversed`` a payment, was ``held``, or a ``duplicate``."""

    kind: str
    entry_key: str
    payment_id: str | None = None
    reason: str | None = None


def act_on(reversal: StatementReversal, *, statement_sha256: str) -> Outcome:
    """Reverse the original payment, or hold the entry for a clerk; once per entry."""
    for attempt in range(ATTEMPTS):
        if (before := bank_reversals.get(reversal.entry_key)) is not None:
            if before.get("statement_sha256") == statement_sha256:  # an interrupted run's
                return Outcome(before["outcome"], reversal.entry_key, before.get("payment_id"))
            return Outcome(DUPLICATE, reversal.entry_key)
        original, reason = _original(reversal)
        try:
            if original is None:
                return _hold(reversal, reason, None, statement_sha256)
            try:
                return _reverse(original, reversal, statement_sha256)
            except (NotReversibleError, UnknownInvoiceError) as refused:
                return _hold(reversal, str(refused), original.payment_id, statement_sha256)
        except StaleStateError:
            logger.info("payment or reversal written meanwhile", extra={"attempt": attempt})
        except BrokenInvariantError:
            if bank_reversals.get(reversal.entry_key) is None:
                raise
    raise StaleStateError([0])


def _original(reversal: StatementReversal) -> tuple[Payment | None, str]:
    """The one payment the reversal takes back, or None and why not."""
    if not reversal.of_credit:
        undone = "reversed a debit" if reversal.reversal_indicator else "returned a debit"
        return None, f"a credit entry that {undone} ({_why(reversal)}): not a customer payment"
    if not reversal.original_references:
        return None, "the reversal names no original (TxDtls/Refs AcctSvcrRef, EndToEndId, InstrId)"
    for kind, value in reversal.original_references:
        named = _named(reversal.account, kind, value)
        found = [payment for payment in named if payment.source == payment_domain.BANK]
        if len(found) > 1:
            found = [p for p in found if p.amount == reversal.amount] or found
        if len(found) == 1:
            return found[0], ""
        if found:
            return None, f"{kind} {value} names {len(found)} payments; a clerk picks the one"
    names = ", ".join(f"{kind} {value}" for kind, value in reversal.original_references)
    return None, f"no payment received into {reversal.account} under {names}"


def _named(account: str, kind: str, value: str) -> list[Payment]:
    """Payments received into ``account`` under the reference. Bank payments imported before
    entries were keyed by account are guarded by the reference alone: their statement's
    account (``account_iban``) must be this one."""
    if kind != "acct_svcr_ref":
        ids = bank_reversals.payments_named(account, kind, value)
        return [p for p in map(payments.get, dict.fromkeys(ids)) if p is not None]
    keyed = payments.by_source(payment_domain.BANK, entry_key(account, value))
    if keyed is not None:
        return [keyed]
    legacy = payments.by_source(payment_domain.BANK, value)
    if legacy is not None and legacy.metadata.get("account_iban") == account:
        return [legacy]
    return []


def _reverse(original: Payment, reversal: StatementReversal, sha256: str) -> Outcome:
    if reversal.currency != original.currency:
        raise NotReversibleError(
            f"the reversal is in {reversal.currency}, payment {original.payment_id} in "
            f"{original.currency}"
        )
    move = CashMove(original, clock.now())
    taken = [move.take_back(allocation.allocation_id) for allocation in original.active_allocations]
    move.reverse(reversal.amount)
    facts = {"reversal_entry": reversal.entry_key, "reversal_reason": reversal.return_reason}
    metadata = {**move.payment.metadata, **{k: v for k, v in facts.items() if v}}
    move.set_payment(move.payment.model_copy(update={"metadata": metadata}))
    move.extra.append(
        bank_reversals.record(
            reversal,
            outcome=REVERSED,
            reason=None,
            payment_id=original.payment_id,
            statement_sha256=sha256,
        )
    )
    currency = original.currency
    events: list[DomainEvent] = [
        payment_event(
            "PaymentReversed",
            move.payment,
            move.at,
            reversal=_wire(reversal),
            unapplied_allocations=[allocation.to_wire(currency) for allocation in taken],
        ),
        *move.invoice_events(payment_id=original.payment_id),
    ]
    move.commit(events)
    logger.info(
        "payment reversed by the bank",
        extra={"payment_id": original.payment_id, "entry_key": reversal.entry_key},
    )
    return Outcome(REVERSED, reversal.entry_key, payment_id=original.payment_id)


def _hold(reversal: StatementReversal, reason: str, payment_id: str | None, sha256: str) -> Outcome:
    record = bank_reversals.record(
        reversal, outcome=HELD, reason=reason, payment_id=payment_id, statement_sha256=sha256
    )
    event = DomainEvent(
        detail_type="BankReversalHeld",
        source=SOURCE,
        aggregate_id=reversal.entry_key,
        occurred_at=clock.now(),
        data={**_wire(reversal), "reason": reason, "payment_id": payment_id},
    )
    outbox.commit([record], [event])
    logger.info("bank reversal held", extra={"entry_key": reversal.entry_key, "reason": reason})
    return Outcome(HELD, reversal.entry_key, payment_id=payment_id, reason=reason)


def _why(reversal: StatementReversal) -> str:
    if reversal.return_reason:
        return f"return reason {reversal.return_reason}"
    return "RvslInd" if reversal.reversal_indicator else "RtrInf"


def _wire(reversal: StatementReversal) -> dict[str, Any]:
    """The reversal entry as events carry it."""
    return {
        "entry_key": reversal.entry_key,
        "credit_debit": reversal.indicator,
        "reversal_indicator": reversal.reversal_indicator,
        "amount": {"amount": str(reversal.amount), "currency": reversal.currency},
        "booking_date": reversal.booking_date.isoformat() if reversal.booking_date else None,
        "return_reason": reversal.return_reason,
        "return_information": reversal.return_information,
        "original_references": dict(reversal.original_references),
    }
