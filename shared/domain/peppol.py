"""Peppol participant identifiers: how a party is reached as electronic address (EndpointID).

A participant id is an EAS scheme code and an identifier in that scheme, written
``scheme:identifier`` (``0208:0123456789``, ``9930:DE811907980``, ``0088:4012345000009``).
The EAS codes are those Peppol BIS Billing 3.0.19 accepts (rule PEPPOL-EN16931-CL008); the
tests check this list against the vendored Peppol rules.

A party without one of its own is reached under its VAT identifier, in the VAT scheme of the
VAT id's country (``DE...`` -> 9930), where that country has one.
"""

from __future__ import annotations

import re

# The EAS codes of Peppol BIS Billing 3.0.19 (PEPPOL-EN16931-UBL.sch, variable ``eaid``).
EAS_CODES = frozenset(
    """0002 0007 0009 0037 0060 0088 0096 0097 0106 0130 0135 0142 0151 0177 0183 0184 0188
    0190 0191 0192 0193 0195 0196 0198 0199 0200 0201 0202 0204 0208 0209 0210 0211 0212 0213
    0215 0216 0218 0221 0230 0235 9910 9913 9914 9915 9918 9919 9920 9922 9923 9924 9925 9926
    9927 9928 9929 9930 9931 9932 9933 9934 9935 9936 9937 9938 9939 9940 9941 9942 9943 9944
    9945 9946 9947 9948 9949 9950 9951 9952 9953 9957 9959 0147 0154 0158 0170 0194 0203 0205
    0217 0225 0240""".split()  # noqa: SIM905 (a table reads better than quoted strings)
)

# The EAS scheme of each country's VAT ids (EAS code list: "<country> VAT number").
VAT_SCHEMES = {
    "AD": "9922",
    "AL": "9923",
    "AT": "9914",
    "BA": "9924",
    "BE": "9925",
    "BG": "9926",
    "CH": "9927",
    "CY": "9928",
    "CZ": "9929",
    "DE": "9930",
    "EE": "9931",
    "ES": "9920",
    "FR": "9957",
    "GB": "9932",
    "GR": "9933",
    "EL": "9933",
    "HR": "9934",
    "HU": "9910",
    "IE": "9935",
    "IT": "0211",
    "LI": "9936",
    "LT": "9937",
    "LU": "9938",
    "LV": "9939",
    "MC": "9940",
    "ME": "9941",
    "MK": "9942",
    "MT": "9943",
    "NL": "9944",
    "PL": "9945",
    "PT": "9946",
    "RO": "9947",
    "RS": "9948",
    "SI": "9949",
    "SK": "9950",
    "SM": "9951",
    "TR": "9952",
    "VA": "9953",
}

# scheme:identifier, written so JSON Schema (ECMA-262) reads it too
PARTICIPANT = re.compile(r"^(\d{4}):([A-Za-z0-9][A-Za-z0-9.:_-]{0,49})$")


def parse(participant: str) -> tuple[str, str]:
    """``(scheme, identifier)`` of ``scheme:identifier``; ValueError names what is wrong."""
    match = PARTICIPANT.match(participant.strip())
    if match is None:
        raise ValueError(
            f"'{participant}' is not a Peppol participant id (scheme:identifier, "
            "e.g. 0208:0123456789)"
        )
    scheme, identifier = match[1], match[2]
    if scheme not in EAS_CODES:
        raise ValueError(f"'{scheme}' is not an EAS code Peppol accepts")
    return scheme, identifier


def normalized(participant: str) -> str:
    """The participant id checked and written as ``scheme:identifier``."""
    scheme, identifier = parse(participant)
    return f"{scheme}:{identifier}"


def from_vat_id(vat_id: str | None) -> str | None:
    """The participant id under a VAT identifier, when its country has a VAT scheme."""
    if not vat_id:
        return None
    compact = re.sub(r"[^A-Za-z0-9]", "", vat_id).upper()
    scheme = VAT_SCHEMES.get(compact[:2])
    return f"{scheme}:{compact}" if scheme else None
