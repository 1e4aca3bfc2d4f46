"""The seller: the legal entity that issues the invoices, as one deployment configures it.

A deployment bills for one legal entity. Its profile (name, address, VAT id, bank account, tax
rates and document prefixes) comes as one JSON string in the SELLER_PROFILE environment variable,
so changing a rate or a bank account is a configuration change, not a release. Invoices copy
what they need from it at issue, so a later change never alters an issued document.
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Annotated

from pydantic import ConfigDict, StringConstraints, ValidationError, field_validator
from stdnum import bic, iban

from shared.domain import peppol, vat_ids
from shared.domain.invoice_parts import Party, PartyAddress, PartyContact, PaymentInstructions
from shared.domain.write_off import SmallDifferenceTolerance
from shared.model import Model

DOMESTIC_RATE_CATEGORIES = ("standard", "reduced")  # "zero" and "exempt" are always 0 %

Prefix = Annotated[str, StringConstraints(pattern=r"^[A-Z][A-Z0-9]{0,7}$")]


def iban_is_valid(number: str) -> bool:
    """ISO 13616: the country's length and format, and the mod-97 check digits."""
    return bool(iban.is_valid(number))


class Seller(Model):
    """The issuing entity. ``tax_rates`` are percents per item tax category for domestic sales."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    entity: Annotated[str, StringConstraints(pattern=r"^[A-Z0-9]{1,10}$")]
    party: Party
    payment: PaymentInstructions
    tax_rates: dict[str, Decimal]
    invoice_prefix: Prefix = "INV"
    credit_note_prefix: Prefix = "CN"
    exemption_reason: Annotated[str, StringConstraints(min_length=1, max_length=200)] = (
        "Exempt from VAT"
    )
    # Write-offs: how short a payment may close an invoice; whether bad debt reclaims its VAT
    small_differences: SmallDifferenceTolerance = SmallDifferenceTolerance()
    bad_debt_vat_relief: bool = False

    @field_validator("party")
    @classmethod
    def _identified(cls, party: Party) -> Party:
        if not party.tax_id:
            raise ValueError("the seller needs its VAT identifier (tax_id) on every invoice")
        vat_ids.checked(party.tax_id, party.address.country)
        if party.contact is None:
            raise ValueError("the seller needs a contact (name, phone, email) on every invoice")
        endpoint = party.endpoint or peppol.from_vat_id(party.tax_id)
        if endpoint is None:
            raise ValueError("the seller needs its Peppol participant id (endpoint)")
        return party.model_copy(update={"endpoint": peppol.normalized(endpoint)})

    @field_validator("payment")
    @classmethod
    def _valid_iban(cls, payment: PaymentInstructions) -> PaymentInstructions:
        if not iban_is_valid(payment.iban):
            raise ValueError(f"'{payment.iban}' is not a valid IBAN (ISO 13616 mod-97 check)")
        if payment.bic and not bic.is_valid(payment.bic):
            raise ValueError(f"'{payment.bic}' is not a valid BIC (ISO 9362)")
        return payment.model_copy(
            update={
                "iban": iban.compact(payment.iban),
                "bic": bic.compact(payment.bic) if payment.bic else None,
            }
        )

    @field_validator("tax_rates")
    @classmethod
    def _domestic_rates(cls, rates: dict[str, Decimal]) -> dict[str, Decimal]:
        missing = [name for name in DOMESTIC_RATE_CATEGORIES if name not in rates]
        if missing:
            raise ValueError(f"tax_rates needs a percent for {', '.join(missing)}")
        unknown = sorted(set(rates) - set(DOMESTIC_RATE_CATEGORIES))
        if unknown:
            raise ValueError(f"tax_rates takes only standard and reduced, not {unknown}")
        for name, rate in rates.items():
            if not Decimal(0) <= rate <= Decimal(100):
                raise ValueError(f"tax_rates.{name} must be a percent between 0 and 100")
        return rates

    @property
    def country(self) -> str:
        return self.party.address.country


def load(raw: str) -> Seller:
    """Parse a seller profile (JSON); a bad one raises ValueError naming what is wrong."""
    try:
        data = json.loads(raw)
    except json.JSONDecodeError as error:
        raise ValueError(f"the seller profile is not valid JSON: {error}") from None
    try:
        return Seller.model_validate(data)
    except ValidationError as error:
        problems = "; ".join(
            f"{'.'.join(str(part) for part in issue['loc']) or '(profile)'}: {issue['msg']}"
            for issue in error.errors()
        )
        raise ValueError(f"the seller profile is invalid: {problems}") from None


DEMO = Seller(
    entity="ACME",
    party=Party(
        name="ACME Industrial Supplies GmbH",
        address=PartyAddress(
            line1="Friedrichstrasse 123", city="Berlin", postal_code="10117", country="DE"
        ),
        tax_id="DE811907980",
        email="billing@acme.example",
        party_id="HRB 123456 B",
        contact=PartyContact(
            name="Accounts Receivable", phone="+49 30 1234567", email="billing@acme.example"
        ),
    ),
    payment=PaymentInstructions(
        iban="DE89370400440532013000", bic="COBADEFFXXX", account_name="ACME Industrial Supplies"
    ),
    tax_rates={"standard": Decimal(19), "reduced": Decimal(7)},
)
