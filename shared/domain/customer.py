"""The customer account: who is invoiced, where, in which currency, on which terms and limit.

Rules an account keeps (the use cases check who may ask for a change, see functions/accounts):

- the currency is fixed when the account is opened (open receivables are in that currency);
- the credit limit is a non-negative amount in that currency, at most to its minor unit;
- status moves freely between ``active`` and ``credit_hold``, and either may be ``closed``;
  a closed account is read-only: the one change it accepts is being reopened (by an admin);
- every change bumps ``version``; a PATCH names the version it read (optimistic concurrency).
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationInfo,
    field_validator,
    model_validator,
)

from shared import clock, ids
from shared.domain import peppol, vat_ids
from shared.domain.access import CaseOwner
from shared.domain.events import DomainEvent
from shared.domain.json_schema import Keywords
from shared.domain.money import DecimalString, minor_units, quantize
from shared.domain.omittable import Omittable
from shared.domain.terms import NET_30, PaymentTerms
from shared.domain.text import STORED, SingleLine
from shared.model import Model

SOURCE = "otc.accounts"

# ISO 3166-1 alpha-2, the officially assigned codes.
COUNTRIES = frozenset(
    """AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ BA BB BD BE BF BG BH BI BJ BL BM BN BO BQ BR
    BS BT BV BW BY BZ CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ DE DJ DK DM DO DZ EC
    EE EG EH ER ES ET FI FJ FK FM FO FR GA GB GD GE GF GG GH GI GL GM GN GP GQ GR GS GT GU GW GY HK
    HM HN HR HT HU ID IE IL IM IN IO IQ IR IS IT JE JM JO JP KE KG KH KI KM KN KP KR KW KY KZ LA LB
    LC LI LK LR LS LT LU LV LY MA MC MD ME MF MG MH MK ML MM MN MO MP MQ MR MS MT MU MV MW MX MY MZ
    NA NC NE NF NG NI NL NO NP NR NU NZ OM PA PE PF PG PH PK PL PM PN PR PS PT PW PY QA RE RO RS RU
    RW SA SB SC SD SE SG SH SI SJ SK SL SM SN SO SR SS ST SV SX SY SZ TC TD TF TG TH TJ TK TL TM TN
    TO TR TT TV TW TZ UA UG UM US UY UZ VA VC VE VG VI VN VU WF WS YE YT ZA ZM ZW""".split()  # noqa: SIM905 (a table reads better than 249 quoted strings)
)

Text = Annotated[str, SingleLine(max_length=120)]
LegalName = Annotated[str, SingleLine(max_length=200)]
PostalCode = Annotated[str, SingleLine(max_length=20)]
TaxId = Annotated[
    str, StringConstraints(strip_whitespace=True, pattern=r"^[A-Za-z0-9][A-Za-z0-9 ./-]{1,39}$")
]
# Checked after trimming; its schema states the pattern, not the EAS codes Peppol accepts.
PeppolId = Annotated[
    str, AfterValidator(peppol.normalized), Keywords(pattern=peppol.PARTICIPANT.pattern)
]


def email_address(value: str) -> str:
    """``value`` as pydantic's ``EmailStr`` validates it (normalized), with the email_validator
    package imported at the first address validated rather than when a model is built: reading
    a stored customer (its addresses checked when written) never pays for it."""
    from pydantic.networks import validate_email

    return validate_email(value)[1]


EmailAddress = Annotated[str, AfterValidator(email_address), Keywords(format="email")]
CurrencyCode = Annotated[str, StringConstraints(pattern=r"^[A-Z]{3}$")]
# A dunning policy of shared.domain.dunning.POLICIES (an unknown name would dun by the default).
PolicyName = Literal["default", "strict", "gentle"]
StatusName = Literal["active", "credit_hold", "closed"]
# How shipments are billed: one invoice per shipment, or one per order once all of it shipped.
InvoicingMode = Literal["per_shipment", "per_order"]
# How the customer's credits are applied: by a clerk, or automatically to the oldest due invoice.
CreditApplicationPolicy = Literal["manual", "oldest_first"]
# Which PDF the customer's invoices come as: a plain one, or a Factur-X / ZUGFeRD hybrid (PDF/A-3
# carrying the invoice's EN 16931 CII XML).
PdfFormat = Literal["pdf", "factur-x"]
# How the customer hears that an order was confirmed or shipped: by e-mail, through the partner
# system that placed it (its webhook), not at all, or by default: e-mail unless a partner system
# placed the order (the partner tells its own user). Invoices, held, rejected and closed orders
# are always e-mailed.
OrderNotices = Literal["default", "email", "webhook", "none"]


class CustomerStatus(StrEnum):
    ACTIVE = "active"
    CREDIT_HOLD = "credit_hold"  # orders are held for a credit manager's decision
    CLOSED = "closed"  # read-only; no new orders


# Changing these is a credit decision (Action.DECIDE_CREDIT); the rest is account upkeep.
CREDIT_FIELDS = frozenset({"credit_limit", "status"})


class CustomerClosedError(Exception):
    """The account is closed: only reopening it is allowed (the API answers 409)."""


class InvalidFieldError(ValueError):
    """A value the request's shape allowed but the account's rules refuse (the API answers 422)."""

    def __init__(self, field: str, detail: str) -> None:
        super().__init__(detail)
        self.field, self.detail = field, detail


def credit_limit_amount(value: str, currency: str) -> Decimal:
    """The limit as an amount, refused when it is finer than the currency's minor unit."""
    amount = Decimal(value)
    if quantize(amount, currency) != amount:
        raise ValueError(f"has more than {minor_units(currency)} decimals for {currency}")
    return amount


class Address(Model):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)

    line1: Text
    line2: Text | None = None
    city: Text
    postal_code: PostalCode
    region: Text | None = None
    country: Annotated[str, StringConstraints(pattern=r"^[A-Z]{2}$")]

    @field_validator("country")
    @classmethod
    def _iso_country(cls, code: str) -> str:
        if code not in COUNTRIES:
            raise ValueError(f"'{code}' is not an ISO 3166-1 alpha-2 country code")
        return code

    @classmethod
    def from_stored(cls, raw: dict[str, Any]) -> Address:
        return cls.model_validate(raw, strict=False, context=STORED)


class CustomerRequest(Model):
    """POST /customers. Strict; the account starts active, its id is the server's."""

    model_config = ConfigDict(extra="forbid", strict=True)

    legal_name: LegalName
    billing_email: EmailAddress
    contact_email: EmailAddress | None = None  # notifications go here, else to billing_email
    tax_id: TaxId | None = None
    peppol_id: PeppolId | None = None  # else invoices reach the buyer under its VAT id
    currency: CurrencyCode  # fixed for the account's life
    billing_address: Address
    payment_terms: PaymentTerms = NET_30
    credit_limit: DecimalString = "0"  # in ``currency``; above 0 is a credit decision
    dunning_policy: PolicyName = "default"
    invoicing: InvoicingMode = "per_shipment"
    credit_application: CreditApplicationPolicy = "manual"
    pdf_format: PdfFormat = "pdf"
    order_notices: OrderNotices = "default"
    case_owner: CaseOwner | None = Field(default=None, strict=False)  # else the rule's

    @field_validator("currency")
    @classmethod
    def _iso_currency(cls, code: str) -> str:
        minor_units(code)
        return code

    @field_validator("credit_limit")
    @classmethod
    def _fits_currency(cls, value: str, info: ValidationInfo) -> str:
        if "currency" in info.data:  # else the currency error already speaks
            credit_limit_amount(value, info.data["currency"])
        return value


class CustomerPatch(Model):
    """PATCH /customers/{id}: the fields to change, and the version they were read at.

    An optional field sent as null clears it (contact_email, tax_id, peppol_id); the others may
    not be null.
    """

    model_config = ConfigDict(extra="forbid", strict=True)

    version: int = Field(ge=1)
    legal_name: Omittable[LegalName] = None
    billing_email: Omittable[EmailAddress] = None
    contact_email: EmailAddress | None = None
    tax_id: TaxId | None = None
    peppol_id: PeppolId | None = None
    billing_address: Omittable[Address] = None
    payment_terms: Omittable[PaymentTerms] = None
    credit_limit: Omittable[DecimalString] = None
    dunning_policy: Omittable[PolicyName] = None
    invoicing: Omittable[InvoicingMode] = None
    status: Omittable[StatusName] = None
    credit_application: Omittable[CreditApplicationPolicy] = None
    pdf_format: Omittable[PdfFormat] = None
    order_notices: Omittable[OrderNotices] = None
    case_owner: CaseOwner | None = Field(default=None, strict=False)  # null: the rule's again

    def requested(self) -> dict[str, Any]:
        """The fields the caller sent (null included), without the version."""
        return {name: getattr(self, name) for name in self.model_fields_set - {"version"}}


class Customer(Model):
    model_config = ConfigDict(frozen=True)

    customer_id: str
    legal_name: str
    billing_email: str  # validated as an e-mail address where it was written (the requests)
    currency: str
    contact_email: str | None = None
    tax_id: str | None = None
    peppol_id: str | None = None  # Peppol participant id, scheme:identifier
    billing_address: Address | None = None  # None only for accounts loaded before addresses
    payment_terms: PaymentTerms = NET_30
    credit_limit: Decimal = Decimal(0)
    dunning_policy: str = "default"
    invoicing: InvoicingMode = "per_shipment"
    credit_application: CreditApplicationPolicy = "manual"
    pdf_format: PdfFormat = "pdf"
    order_notices: OrderNotices = "default"
    case_owner: str | None = None  # the role owning this customer's cases (else the rule's)
    status: CustomerStatus = CustomerStatus.ACTIVE
    version: int = 1
    created_at: datetime = Field(default_factory=clock.now)
    updated_at: datetime = Field(default_factory=clock.now)

    @model_validator(mode="before")
    @classmethod
    def _updated_defaults_to_created(cls, data: Any) -> Any:
        if isinstance(data, dict) and data.get("updated_at") is None:
            created = data.get("created_at") or clock.now()
            data = {**data, "created_at": created, "updated_at": created}
        return data

    @property
    def notification_email(self) -> str:
        """Where account e-mails (invoices, reminders) go."""
        return str(self.contact_email or self.billing_email)

    def field_wire(self, name: str) -> Any:
        """One field as it appears on the wire (and in change records)."""
        value = getattr(self, name)
        if name == "credit_limit":
            return str(quantize(self.credit_limit, self.currency))
        if isinstance(value, BaseModel):
            return value.model_dump()
        if isinstance(value, StrEnum):
            return value.value
        return value

    def to_wire(self) -> dict[str, Any]:
        return {
            "id": self.customer_id,
            "legal_name": self.legal_name,
            "billing_email": self.billing_email,
            "contact_email": self.contact_email,
            "tax_id": self.tax_id,
            "peppol_id": self.peppol_id,
            "currency": self.currency,
            "billing_address": self.field_wire("billing_address"),
            "payment_terms": self.field_wire("payment_terms"),
            "credit_limit": self.field_wire("credit_limit"),
            "dunning_policy": self.dunning_policy,
            "invoicing": self.invoicing,
            "credit_application": self.credit_application,
            "pdf_format": self.pdf_format,
            "order_notices": self.order_notices,
            "case_owner": self.case_owner,
            "status": self.status.value,
            "version": self.version,
            "created_at": clock.iso(self.created_at),
            "updated_at": clock.iso(self.updated_at),
        }


class Amendment(Model):
    """The outcome of a PATCH: the account after it, and what changed (empty: nothing to do)."""

    model_config = ConfigDict(frozen=True)

    customer: Customer
    changed: frozenset[str]
    event: DomainEvent | None

    @property
    def reopens(self) -> bool:
        return "status" in self.changed and self.customer.status is not CustomerStatus.CLOSED


def open_account(
    request: CustomerRequest, actor: str, *, customer_id: str | None = None
) -> tuple[Customer, DomainEvent]:
    """The new account; InvalidFieldError when its VAT id is not one of its billing country."""
    _check_vat_id(request.tax_id, request.billing_address)
    now = clock.now()
    customer = Customer(
        customer_id=customer_id or ids.new_id("cus"),
        legal_name=request.legal_name,
        billing_email=request.billing_email,
        contact_email=request.contact_email,
        tax_id=request.tax_id,
        peppol_id=request.peppol_id,
        currency=request.currency,
        billing_address=request.billing_address,
        payment_terms=request.payment_terms,
        credit_limit=credit_limit_amount(request.credit_limit, request.currency),
        dunning_policy=request.dunning_policy,
        invoicing=request.invoicing,
        credit_application=request.credit_application,
        pdf_format=request.pdf_format,
        order_notices=request.order_notices,
        case_owner=request.case_owner.value if request.case_owner else None,
        status=CustomerStatus.ACTIVE,
        version=1,
        created_at=now,
        updated_at=now,
    )
    return customer, _event("CustomerCreated", customer, actor)


def amend(customer: Customer, patch: CustomerPatch, actor: str) -> Amendment:
    """Apply the fields that differ; a closed account accepts nothing but being reopened."""
    requested = patch.requested()
    wanted = {name: _domain_value(customer, name, value) for name, value in requested.items()}
    changed = frozenset(name for name, value in wanted.items() if getattr(customer, name) != value)
    if not changed:
        return Amendment(customer=customer, changed=changed, event=None)
    if customer.status is CustomerStatus.CLOSED and wanted.get("status", "closed") == "closed":
        raise CustomerClosedError(f"customer {customer.customer_id} is closed")
    if changed & {"tax_id", "billing_address"}:
        _check_vat_id(
            wanted.get("tax_id", customer.tax_id),
            wanted.get("billing_address", customer.billing_address),
        )
    amended = customer.model_copy(
        update={
            **{name: wanted[name] for name in changed},
            "version": customer.version + 1,
            "updated_at": clock.now(),
        }
    )
    changes = {
        name: {"before": customer.field_wire(name), "after": amended.field_wire(name)}
        for name in sorted(changed)
    }
    event = _event("CustomerUpdated", amended, actor, changes=changes)
    return Amendment(customer=amended, changed=changed, event=event)


def _check_vat_id(tax_id: str | None, address: Address | None) -> None:
    if tax_id is None or address is None:
        return
    try:
        vat_ids.checked(tax_id, address.country)
    except ValueError as error:
        raise InvalidFieldError("tax_id", str(error)) from None


def _domain_value(customer: Customer, name: str, value: Any) -> Any:
    if name == "credit_limit":
        try:
            return credit_limit_amount(value, customer.currency)
        except ValueError as error:
            raise InvalidFieldError(name, str(error)) from None
    if name == "status":
        return CustomerStatus(value)
    if name == "case_owner":
        return None if value is None else CaseOwner(value).value
    return value


def _event(detail_type: str, customer: Customer, actor: str, **extra: Any) -> DomainEvent:
    """Data: the account's wire form, who acted, and (for updates) each change before/after."""
    return DomainEvent(
        detail_type=detail_type,
        source=SOURCE,
        aggregate_id=customer.customer_id,
        occurred_at=customer.updated_at,
        data={**customer.to_wire(), "actor": actor, **extra},
    )
