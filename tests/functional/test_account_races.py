"""Two changes of one account at the version they read: one applies, the other answers 409
with the version the first made, never 500."""

from __future__ import annotations

from functions.accounts.update_customer import update_customer
from shared.domain.customer import CustomerPatch
from shared.store import customers
from tests.functional.conftest import World
from tests.functional.races import conflicts, principal, race, statuses


def test_two_patches_of_one_customer_version_apply_once(world: World, serializable_transactions):
    # Given a customer at its version
    customer = customers.get("cus_acme", consistent=True)
    assert customer is not None
    admin = principal()

    def rename(name: str) -> object:
        patch = CustomerPatch.model_validate({"version": customer.version, "legal_name": name})
        return update_customer("cus_acme", patch, admin)

    # When two renames of that version arrive at once
    outcomes = race(lambda: rename("Acme One GmbH"), lambda: rename("Acme Two GmbH"))

    # Then one applies and the other answers 409 with the version the first made
    assert statuses(outcomes) == [200, 409], outcomes
    after = customers.get("cus_acme", consistent=True)
    assert after is not None and after.version == customer.version + 1
    [refusal] = conflicts(outcomes)
    assert refusal["type"].endswith("/version-mismatch")
    assert refusal["current_version"] == after.version
    [won] = [outcome.body for outcome in outcomes if outcome.status == 200]
    assert after.legal_name == won.legal_name
    updated = [
        item
        for item in world.written()
        if item.get("entity") == "Event" and item["detail_type"] == "CustomerUpdated"
    ]
    assert len(updated) == 1
