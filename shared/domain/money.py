"""Money: Decimal amounts in an ISO 4217 currency, rounded explicitly to its minor unit."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from typing import Annotated, Self

from pydantic import ConfigDict, StringConstraints, field_validator
from pydantic.json_schema import Examples

from shared.model import Model

_ZERO_DECIMALS = "BIF CLP DJF GNF ISK JPY KMF KRW PYG RWF UGX UYI VND VUV XAF XOF XPF"
_THREE_DECIMALS = "BHD IQD JOD KWD LYD OMR TND"
_FOUR_DECIMALS = "CLF UYW"
_TWO_DECIMALS = (
    "AED AFN ALL AMD ANG AOA ARS AUD AWG AZN BAM BBD BDT BGN BMD BND BOB BOV BRL BSD BTN BWP BYN "
    "BZD CAD CDF CHE CHF CHW CNY COP COU CRC CUP CVE CZK DKK DOP DZD EGP ERN ETB EUR FJD FKP GBP "
    "GEL GHS GIP GMD GTQ GYD HKD HNL HTG HUF IDR ILS INR IRR JMD KES KGS KHR KPW KYD KZT LAK LBP "
    "LKR LRD LSL MAD MDL MGA MKD MMK MNT MOP MRU MUR MVR MWK MXN MXV MYR MZN NAD NGN NIO NOK NPR "
    "NZD PAB PEN PGK PHP PKR PLN QAR RON RSD RUB SAR SBD SCR SDG SEK SGD SHP SLE SOS SRD SSP STN "
    "SVC SYP SZL THB TJS TMT TOP TRY TTD TWD TZS UAH USD USN UYU UZS VED VES WST XCD XCG YER ZAR "
    "ZMW ZWG"
)

# What a request writes an amount (or a quantity) as: a decimal string, never a JSON number.
DecimalString = Annotated[
    str, StringConstraints(pattern=r"^\d{1,12}(\.\d{1,6})?$"), Examples(["19.99"])
]

MINOR_UNITS: dict[str, int] = {
    **dict.fromkeys(_TWO_DECIMALS.split(), 2),
    **dict.fromkeys(_ZERO_DECIMALS.split(), 0),
    **dict.fromkeys(_THREE_DECIMALS.split(), 3),
    **dict.fromkeys(_FOUR_DECIMALS.split(), 4),
}


class UnknownCurrencyError(ValueError):
    def __init__(self, code: str) -> None:
        super().__init__(f"'{code}' is not an ISO 4217 currency code")


def minor_units(currency: str) -> int:
    try:
        return MINOR_UNITS[currency]
    except KeyError:
        raise UnknownCurrencyError(currency) from None


def quantize(amount: Decimal, currency: str) -> Decimal:
    """Round half-up to the currency's minor unit (the default policy of this system)."""
    return amount.quantize(Decimal(1).scaleb(-minor_units(currency)), rounding=ROUND_HALF_UP)


class Money(Model):
    """An amount in a currency; on the wire the amount is a decimal string."""

    model_config = ConfigDict(frozen=True)

    amount: Decimal
    currency: str

    @field_validator("currency")
    @classmethod
    def _known_currency(cls, code: str) -> str:
        minor_units(code)
        return code

    @classmethod
    def zero(cls, currency: str) -> Self:
        return cls(amount=quantize(Decimal(0), currency), currency=currency)

    def __add__(self, other: Money) -> Money:
        if other.currency != self.currency:
            raise ValueError(f"cannot add {other.currency} to {self.currency}")
        return Money(amount=self.amount + other.amount, currency=self.currency)

    def to_wire(self) -> dict[str, str]:
        return {"amount": str(quantize(self.amount, self.currency)), "currency": self.currency}
