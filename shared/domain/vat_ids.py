"""VAT identifiers: the country's format and check digits (python-stdnum), and the right country.

A VAT id carries its country's prefix (``DE``, ``FR``, ``EL`` for Greece, ``XI`` for Northern
Ireland, ``CHE`` for Switzerland) and must be one of the billing address's country. Member
states are checked with ``stdnum.eu.vat``; Switzerland, the United Kingdom and Norway with their
own modules. Other countries' tax ids are kept as given (their format is not checked).
"""

from __future__ import annotations

from types import ModuleType

_PREFIX_COUNTRY = {"EL": "GR", "XI": "GB"}


def checked(vat_id: str, country: str) -> str:
    """``vat_id`` if it is a valid VAT id of ``country``; else ValueError saying why."""
    prefix = vat_id[:2].upper()
    if prefix.isalpha():
        issued_in = _PREFIX_COUNTRY.get(prefix, prefix)
        if issued_in != country and not (prefix == "XI" and country == "GB"):
            raise ValueError(
                f"'{vat_id}' is a VAT id of {issued_in}; the billing address is in {country}"
            )
    module = _module(country)
    if module is None:
        return vat_id
    if not prefix.isalpha():
        raise ValueError(f"'{vat_id}' must start with its country prefix ({country})")
    from stdnum.exceptions import ValidationError

    try:
        module.validate(vat_id)
    except ValidationError as error:
        raise ValueError(f"'{vat_id}' is not a valid {country} VAT id: {error.message}") from None
    return vat_id


def _module(country: str) -> ModuleType | None:
    """stdnum's module for ``country``, imported on first use: off the API's cold start."""
    from stdnum.ch import vat as swiss_vat
    from stdnum.eu import vat as eu_vat
    from stdnum.gb import vat as uk_vat
    from stdnum.no import mva as norwegian_vat

    if country.lower() in eu_vat.MEMBER_STATES:
        return eu_vat
    others: dict[str, ModuleType] = {"CH": swiss_vat, "GB": uk_vat, "NO": norwegian_vat}
    return others.get(country)
