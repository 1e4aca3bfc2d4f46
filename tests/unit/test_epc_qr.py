"""The EPC QR code (EPC069-12 version 002) of a SEPA credit transfer: its payload and its code."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
import zxingcpp

from functions.rendering.qr_code import matrix, svg
from shared.domain import epc_qr
from tests.unit import invoice_samples
from tests.unit.qr_images import decode, svg_modules


def test_the_payload_follows_the_epc069_12_layout() -> None:
    # When the payload of a transfer quoting an RF creditor reference is made
    text = epc_qr.payload(
        name="Muster Handel GmbH",
        iban="DE89 3704 0044 0532 0130 00",
        amount=Decimal("230.1"),
        reference="RF18539007547034",
        bic="COBADEFFXXX",
    )

    # Then it is the twelve-field layout, LF-separated, trailing empty fields left out
    assert text.split("\n") == [
        "BCD",  # service tag
        "002",  # version
        "1",  # character set: UTF-8
        "SCT",  # SEPA credit transfer
        "COBADEFFXXX",  # BIC
        "Muster Handel GmbH",  # beneficiary
        "DE89370400440532013000",  # IBAN, compact
        "EUR230.10",  # amount, two decimals
        "",  # purpose
        "RF18539007547034",  # structured remittance: the RF reference
    ]


def test_without_bic_and_rf_reference_the_fields_stay_in_place() -> None:
    # When the BIC is unknown and the reference is not an RF reference
    text = epc_qr.payload(
        name="Société Générale  Müller", iban="FR7630006000011234567890189",
        amount=Decimal(5), reference="Invoice 42",
    )  # fmt: skip

    # Then the BIC field is empty and the reference is unstructured remittance (field 11)
    assert text == (
        "BCD\n002\n1\nSCT\n\nSociété Générale Müller\nFR7630006000011234567890189\nEUR5.00\n\n\n"
        "Invoice 42"
    )


def test_a_long_name_is_cut_to_70_characters() -> None:
    text = epc_qr.payload(name="N" * 90, iban="DE89370400440532013000", amount=Decimal(1),
                          reference="RF18539007547034")  # fmt: skip

    assert text.split("\n")[5] == "N" * 70


@pytest.mark.parametrize("amount", ["0", "0.001", "-1", "1000000000"])
def test_an_amount_outside_0_01_to_999999999_99_is_refused(amount: str) -> None:
    with pytest.raises(ValueError, match=re.escape("0.01 to 999999999.99")):
        epc_qr.payload(name="N", iban="DE89370400440532013000", amount=Decimal(amount),
                       reference="RF18539007547034")  # fmt: skip


def test_a_euro_invoice_asks_for_its_total_and_quotes_its_reference() -> None:
    # Given the domestic sample (EUR, the seller's IBAN and BIC)
    invoice = invoice_samples.domestic_invoice()
    assert invoice.payment is not None

    # Then its payload pays the total to the seller's account quoting the RF reference
    assert epc_qr.for_invoice(invoice) == (
        f"BCD\n002\n1\nSCT\n{invoice.payment.bic}\n{invoice.payment.account_name}\n"
        f"{invoice.payment.iban}\nEUR{invoice.total}\n\n{invoice.payment_reference}"
    )


def test_credit_notes_and_other_currencies_get_no_code() -> None:
    assert epc_qr.for_invoice(invoice_samples.credit_note()) is None
    assert epc_qr.for_invoice(invoice_samples.export_invoice()) is None  # USD


def test_the_code_decodes_back_to_the_exact_payload_at_level_m() -> None:
    # Given the payload of the domestic invoice
    payload = epc_qr.for_invoice(invoice_samples.domestic_invoice())
    assert payload is not None

    # When its QR code's modules are drawn as an image and read by a QR decoder
    decoded = decode(matrix(payload))

    # Then the decoder reads the payload byte for byte, at error correction level M
    assert decoded is not None
    assert decoded.format == zxingcpp.BarcodeFormat.QRCode
    assert decoded.text == payload
    assert decoded.ec_level == "M"


def test_the_svg_decodes_back_to_the_same_payload() -> None:
    # Given
    payload = epc_qr.for_invoice(invoice_samples.domestic_invoice())
    assert payload is not None

    # When the code is drawn as an SVG (the portal's), its title hostile
    drawn = svg(payload, title="<script>x</script>")

    # Then it decodes to the payload, and the title is escaped
    decoded = decode(svg_modules(drawn))
    assert decoded is not None
    assert decoded.text == payload
    assert "<script>" not in drawn
