"""Customers' VAT ids (checked with their country's check digits) and Peppol participant ids."""

from __future__ import annotations

import pytest

from tests.functional.accounts import PROBLEM, call, create_customer, customer_body, written


def _assert_refused_at(answer, pointer: str) -> None:
    assert answer.status == 422, answer.body
    assert answer.headers["Content-Type"] == PROBLEM
    assert answer.body["type"].endswith("/validation-error")
    assert answer.body["title"] and answer.body["status"] == 422 and answer.body["detail"]
    assert [error["pointer"] for error in answer.body["errors"]] == [pointer]


@pytest.mark.parametrize(
    ("fields", "pointer"),
    [
        ({"tax_id": "FR00000000000"}, "#/tax_id"),  # French shape, wrong check digits
        ({"tax_id": "FR40303265046"}, "#/tax_id"),  # one digit off
        ({"tax_id": "DE811907980"}, "#/tax_id"),  # valid, but German on a French address
        ({"tax_id": "40303265045"}, "#/tax_id"),  # no country prefix
        ({"peppol_id": "EM:compta@initech.example"}, "#/peppol_id"),
        ({"peppol_id": "9999:0123456789"}, "#/peppol_id"),  # not an EAS code
        ({"peppol_id": "0208"}, "#/peppol_id"),
    ],
    ids=["checksum", "one-digit-off", "wrong-country", "no-prefix", "email", "no-eas", "no-id"],
)
def test_an_account_with_a_bad_identifier_is_refused_at_the_field(world, client, fields, pointer):
    # Given the table as seeded
    before = written(world)

    # When an admin opens a French account with a bad VAT id or participant id
    answer = call(client, "POST", "/customers", body=customer_body(**fields))

    # Then 422 names the field, and nothing was written
    _assert_refused_at(answer, pointer)
    assert written(world) == before


def test_an_account_keeps_its_valid_vat_id_and_participant_id(world, client):
    # When an admin opens an account with a valid VAT id and a participant id
    customer = create_customer(client, tax_id="FR40303265045", peppol_id=" 0009:30326504500010")

    # Then both are kept, the participant id trimmed
    assert customer["tax_id"] == "FR40303265045"
    assert customer["peppol_id"] == "0009:30326504500010"
    got = call(client, "GET", f"/customers/{customer['id']}")
    assert got.body["peppol_id"] == "0009:30326504500010"


@pytest.mark.parametrize(
    "patch",
    [
        {"tax_id": "FR00000000000"},
        {
            "billing_address": {
                "line1": "1 Main St",
                "city": "Bonn",
                "postal_code": "53111",
                "country": "DE",
            }
        },
    ],
    ids=["bad-vat-id", "address-moves-away-from-the-vat-id"],
)
def test_a_change_that_breaks_the_vat_id_is_refused(world, client, patch):
    # Given a French account with a French VAT id
    customer = create_customer(client, tax_id="FR40303265045")
    before = written(world)

    # When the VAT id is made invalid, or the address moved to another country
    answer = call(client, "PATCH", f"/customers/{customer['id']}", body={"version": 1, **patch})

    # Then 422 names the VAT id, and nothing was written
    _assert_refused_at(answer, "#/tax_id")
    assert written(world) == before
