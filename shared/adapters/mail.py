"""Sending e-mail through SES v2: one message, plain text and HTML, to one recipient."""

from __future__ import annotations

from shared.adapters import aws

CHARSET = "UTF-8"


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
