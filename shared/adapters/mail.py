"""Sending e-mail through SES v2: one message, plain text and HTML, to one recipient.

``send`` sends a simple message; ``send_raw`` builds a MIME message with attachments (SES's
simple content has none) and sends it as raw content.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from email.message import EmailMessage
from email.policy import SMTP

from shared.adapters import aws
from shared.config import settings

CHARSET = "UTF-8"


@dataclass(frozen=True)
class Attachment:
    filename: str
    content: bytes
    content_type: str  # e.g. "application/pdf"


class SenderNotConfiguredError(RuntimeError):
    """SENDER_EMAIL is not set: no e-mail can be sent (retried, then dead-lettered)."""


def configured_sender() -> str:
    """The verified SES identity customer e-mails come from."""
    sender = settings().sender_email
    if not sender:
        raise SenderNotConfiguredError("SENDER_EMAIL is not set")
    return sender


def send(*, sender: str, recipient: str, subject: str, text: str, html: str) -> str:
    """Send one e-mail and return SES's MessageId (any SES error propagates to the caller)."""
    answer = aws.client("sesv2").send_email(
        FromEmailAddress=sender,
        Destination={"ToAddresses": [recipient]},
        Content={
            "Simple": {
                "Subject": {"Data": subject, "Charset": CHARSET},
                "Body": {
                    "Text": {"Data": text, "Charset": CHARSET},
                    "Html": {"Data": html, "Charset": CHARSET},
                },
            }
        },
    )
    return str(answer["MessageId"])


def send_raw(
    *,
    sender: str,
    recipient: str,
    subject: str,
    text: str,
    html: str,
    attachments: Sequence[Attachment] = (),
) -> str:
    """Send one e-mail with attachments and return SES's MessageId (SES errors propagate)."""
    message = mime_message(
        sender=sender,
        recipient=recipient,
        subject=subject,
        text=text,
        html=html,
        attachments=attachments,
    )
    answer = aws.client("sesv2").send_email(
        FromEmailAddress=sender,
        Destination={"ToAddresses": [recipient]},
        Content={"Raw": {"Data": message.as_bytes()}},
    )
    return str(answer["MessageId"])


def mime_message(
    *,
    sender: str,
    recipient: str,
    subject: str,
    text: str,
    html: str,
    attachments: Sequence[Attachment] = (),
) -> EmailMessage:
    """multipart/mixed: the text and HTML bodies as alternatives, then each attachment.

    Bodies are quoted-printable, attachments base64, so the message is 7-bit ASCII whatever the
    text holds. The SMTP policy writes CRLF line ends and refuses header values with line
    breaks, so nothing in a subject can inject a header.
    """
    message = EmailMessage(policy=SMTP)
    message["From"] = sender
    message["To"] = recipient
    message["Subject"] = subject
    message.set_content(text, charset="utf-8", cte="quoted-printable")
    message.add_alternative(html, subtype="html", charset="utf-8", cte="quoted-printable")
    for attachment in attachments:
        maintype, _, subtype = attachment.content_type.partition("/")
        message.add_attachment(
            attachment.content, maintype=maintype, subtype=subtype, filename=attachment.filename
        )
    return message
