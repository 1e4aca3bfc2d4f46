"""Peppol participant ids, VAT ids and the seller's identities, checked as Peppol and stdnum do."""

from __future__ import annotations

import json
import re

import pytest

from shared.domain import peppol, vat_ids
from shared.domain import seller as seller_profile
from shared.domain.seller import DEMO
from tests.unit.validation import SCHEMAS

PEPPOL_SCHEMATRON = SCHEMAS / "peppol-bis-3.0.19" / "PEPPOL-EN16931-UBL.sch"


def test_the_eas_codes_are_those_of_the_vendored_peppol_rules():
    # Given the EAS code list of the Peppol rules (the variable behind PEPPOL-EN16931-CL008)
    found = re.search(r"name=\"eaid\" value=\"tokenize\('([0-9 ]+)'", PEPPOL_SCHEMATRON.read_text())
    assert found is not None

    # Then the domain accepts exactly those codes
    assert frozenset(found.group(1).split()) == peppol.EAS_CODES
    assert set(peppol.VAT_SCHEMES.values()) <= peppol.EAS_CODES


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("0208:0123456749", ("0208", "0123456749")),
        (" 9930:DE811907980 ", ("9930", "DE811907980")),
        ("0088:4012345000009", ("0088", "4012345000009")),
    ],
)
def test_a_participant_id_is_a_scheme_and_an_identifier(given, expected):
    # When a participant id is parsed
    # Then it is its EAS scheme and its identifier
    assert peppol.parse(given) == expected


@pytest.mark.parametrize(
    ("given", "message"),
    [
        ("EM:ap@buyer.example", "not a Peppol participant id"),
        ("9999:123", "not an EAS code"),
        ("0208:", "not a Peppol participant id"),
        ("0123456749", "not a Peppol participant id"),
    ],
)
def test_a_bad_participant_id_says_what_is_wrong(given, message):
    # When a malformed participant id, or one outside the EAS list, is parsed
    # Then it is refused with the reason
    with pytest.raises(ValueError, match=message):
        peppol.parse(given)


@pytest.mark.parametrize(
    ("vat_id", "participant"),
    [
        ("DE811907980", "9930:DE811907980"),
        ("NL004495445B01", "9944:NL004495445B01"),
        ("CHE-116.281.710 MWST", "9927:CHE116281710MWST"),
        ("EL094259216", "9933:EL094259216"),
        ("US12-3456789", None),
        (None, None),
    ],
)
def test_a_vat_id_gives_the_participant_id_of_its_countrys_vat_scheme(vat_id, participant):
    # When a party without a participant id of its own has a VAT id
    # Then it is reached under the VAT scheme of the VAT id's country, where there is one
    assert peppol.from_vat_id(vat_id) == participant


@pytest.mark.parametrize(
    ("vat_id", "country"),
    [
        ("DE811907980", "DE"),
        ("FR40303265045", "FR"),
        ("EL094259216", "GR"),
        ("CHE-116.281.710 MWST", "CH"),
        ("GB980780684", "GB"),
        ("12-3456789", "US"),  # no VAT rules known for the country: kept as given
    ],
)
def test_valid_vat_ids_pass(vat_id, country):
    # When a valid VAT id of the billing country is checked
    # Then it is kept
    assert vat_ids.checked(vat_id, country) == vat_id


@pytest.mark.parametrize(
    ("vat_id", "country", "message"),
    [
        ("FR00000000000", "FR", "not a valid FR VAT id"),
        ("DE811907981", "DE", "not a valid DE VAT id"),
        ("DE811907980", "FR", "VAT id of DE; the billing address is in FR"),
        ("811907980", "DE", "must start with its country prefix"),
    ],
)
def test_invalid_vat_ids_say_why(vat_id, country, message):
    # When a VAT id with wrong check digits, of another country or without prefix is checked
    # Then it is refused with the reason
    with pytest.raises(ValueError, match=message):
        vat_ids.checked(vat_id, country)


def _profile(**party_changes) -> str:
    profile = json.loads(DEMO.model_dump_json())
    profile["party"].update(party_changes)
    return json.dumps(profile)


def test_the_demo_seller_is_reached_under_its_vat_id_and_names_its_contact():
    # Given the demo seller (no participant id of its own)
    # Then it is reached under its German VAT id and has a full contact
    assert DEMO.party.endpoint == "9930:DE811907980"
    assert DEMO.party.contact is not None
    assert DEMO.party.contact.phone and DEMO.party.contact.email


def test_a_profile_may_name_its_own_participant_id():
    # When a profile names a participant id
    seller = seller_profile.load(_profile(endpoint="0088:4012345000009"))
    # Then invoices use it
    assert seller.party.endpoint == "0088:4012345000009"


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"contact": None}, "needs a contact"),
        ({"tax_id": "DE811907981"}, "not a valid DE VAT id"),
        ({"endpoint": "EM:billing@acme.example"}, "not a Peppol participant id"),
    ],
)
def test_a_seller_profile_without_what_peppol_needs_is_refused(changes, message):
    # When a profile without contact, with a bad VAT id or an e-mail endpoint is loaded
    # Then it is refused, naming what is wrong
    with pytest.raises(ValueError, match=message):
        seller_profile.load(_profile(**changes))


def test_a_bad_bic_is_refused():
    # Given a profile whose BIC is too short
    profile = json.loads(DEMO.model_dump_json())
    profile["payment"]["bic"] = "COBADEF"
    # When it is loaded, then it is refused
    with pytest.raises(ValueError, match="not a valid BIC"):
        seller_profile.load(json.dumps(profile))
