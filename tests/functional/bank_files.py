"""camt.053 files as banks send them, built for a test: a statement of one account and its entries
(credits, reversals, returns), in camt.053.001.08 (``Sts/Cd`` from version 09 on)."""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Any
from xml.sax.saxutils import escape

from infra.local.offline import ADMIN_KEY

OUR_ACCOUNT = "DE89370400440532013000"
OTHER_ACCOUNT = "DE44500105175407324931"  # the seller's second bank account
PAYER_IBAN = "DE02120300000000202051"


def statement(*entries: str, account: str = OUR_ACCOUNT, statement_id: str = "STMT-1") -> bytes:
    """A camt.053.001.08 file: one statement of ``account`` holding ``entries``."""
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.08">
  <BkToCstmrStmt>
    <GrpHdr><MsgId>MSG-{statement_id}</MsgId><CreDtTm>2026-11-20T18:00:00+01:00</CreDtTm></GrpHdr>
    <Stmt>
      <Id>{statement_id}</Id>
      <Acct><Id><IBAN>{account}</IBAN></Id><Ccy>EUR</Ccy></Acct>
      {"".join(entries)}
    </Stmt>
  </BkToCstmrStmt>
</Document>""".encode()


def credit(
    amount: Decimal | str,
    *,
    reference: str | None,
    remittance: str,
    end_to_end_id: str = "NOTPROVIDED",
    day: str = "2026-11-20",
) -> str:
    """A booked credit transfer from ACME's account (``reference``: AcctSvcrRef, or none)."""
    own_reference = f"<AcctSvcrRef>{reference}</AcctSvcrRef>" if reference else ""
    return f"""<Ntry>
  <Amt Ccy="EUR">{amount}</Amt><CdtDbtInd>CRDT</CdtDbtInd><Sts><Cd>BOOK</Cd></Sts>
  <BookgDt><Dt>{day}</Dt></BookgDt><ValDt><Dt>{day}</Dt></ValDt>
  {own_reference}
  <NtryDtls><TxDtls>
    <Refs><EndToEndId>{escape(end_to_end_id)}</EndToEndId></Refs>
    <RltdPties>
      <Dbtr><Pty><Nm>ACME Retail GmbH</Nm></Pty></Dbtr>
      <DbtrAcct><Id><IBAN>{PAYER_IBAN}</IBAN></Id></DbtrAcct>
    </RltdPties>
    <RmtInf><Ustrd>{escape(remittance)}</Ustrd></RmtInf>
  </TxDtls></NtryDtls>
</Ntry>"""


def reversal(
    amount: Decimal | str,
    *,
    reference: str,
    indicator: str = "DBIT",
    reversal_indicator: bool = True,
    original: str | None = None,
    end_to_end_id: str | None = None,
    reason: str | None = None,
    day: str = "2026-11-23",
) -> str:
    """A booked reversal (``RvslInd`` true) or, without it, a return (``RtrInf``) naming the
    original entry by ``AcctSvcrRef`` and/or ``EndToEndId``."""
    refs = "".join(
        [
            f"<AcctSvcrRef>{original}</AcctSvcrRef>" if original else "",
            f"<EndToEndId>{end_to_end_id}</EndToEndId>" if end_to_end_id else "",
        ]
    )
    returned = (
        f"<RtrInf><Rsn><Cd>{reason}</Cd></Rsn><AddtlInf>returned by the payer's bank</AddtlInf>"
        "</RtrInf>"
        if reason
        else ""
    )
    return f"""<Ntry>
  <Amt Ccy="EUR">{amount}</Amt><CdtDbtInd>{indicator}</CdtDbtInd>
  {"<RvslInd>true</RvslInd>" if reversal_indicator else ""}
  <Sts><Cd>BOOK</Cd></Sts>
  <BookgDt><Dt>{day}</Dt></BookgDt><ValDt><Dt>{day}</Dt></ValDt>
  <AcctSvcrRef>{reference}</AcctSvcrRef>
  <NtryDtls><TxDtls>
    <Refs>{refs}</Refs>
    <RltdPties><Dbtr><Pty><Nm>ACME Retail GmbH</Nm></Pty></Dbtr></RltdPties>
    {returned}
  </TxDtls></NtryDtls>
</Ntry>"""


def post_statement(
    client: Any,
    content: bytes,
    *,
    key: str = ADMIN_KEY,
    idempotency_key: str | None = None,
    content_type: str = "application/xml",
) -> Any:
    """POST /bank-statements as the bank's file transfer client would."""
    return client.http.post(
        "/bank-statements",
        headers={
            "Content-Type": content_type,
            "X-Api-Key": key,
            "Idempotency-Key": idempotency_key or str(uuid.uuid4()),
        },
        body=content,
    )
