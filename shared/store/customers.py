"""Customers in the single table: the account item, its credit item, and the listing index.

| item | pk | sk | gsi2pk / gsi2sk |
| --- | --- | --- | --- |
| account | ``CUSTOMER#<id>`` | ``CUSTOMER`` | ``CUSTOMERS`` / ``NAME#<legal name>#<id>`` |
| credit | ``CUSTOMER#<id>`` | ``CREDIT`` | (see shared/store/credit.py) |
| portal access | ``CUSTOMER#<id>`` | ``PORTAL`` | (see shared/store/portal_access.py) |

The account's partition is small (those three items): ``get_account`` reads it in one Query.

Listings sort by the legal name casefolded, then the id.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal

from shared import clock
from shared.domain.customer import Address, Customer, CustomerStatus
from shared.domain.events import DomainEvent
from shared.domain.terms import NET_30, PaymentTerms
from shared.store import credit, outbox, portal_access, readable, table
from shared.store.credit import CreditExposure
from shared.store.table import Item, Put, Write

LISTING = "CUSTOMERS"
BY_NAME = "NAME#"
PARTITION_PAGE = 500  # items per Query of a customer's partition (DynamoDB stops at 1 MB anyway)


def customer_key(customer_id: str) -> tuple[str, str]:
    return f"CUSTOMER#{customer_id}", "CUSTOMER"


def to_item(customer: Customer) -> Item:
    pk, sk = customer_key(customer.customer_id)
    return {
        "pk": pk,
        "sk": sk,
        "entity": "Customer",
        "gsi2pk": LISTING,
        "gsi2sk": listing_sort_key(customer),
        "customer_id": customer.customer_id,
        "legal_name": customer.legal_name,
        "billing_email": customer.billing_email,
        "contact_email": customer.contact_email,
        "tax_id": customer.tax_id,
        "peppol_id": customer.peppol_id,
        "currency": customer.currency,
        "billing_address": (
            customer.billing_address.model_dump() if customer.billing_address else None
        ),
        "payment_terms": customer.payment_terms.model_dump(),
        "credit_limit": customer.credit_limit,
        "dunning_policy": customer.dunning_policy,
        "invoicing": customer.invoicing,
        "credit_application": customer.credit_application,
        "pdf_format": customer.pdf_format,
        "order_notices": customer.order_notices,
        "case_owner": customer.case_owner,
        "status": customer.status.value,
        "version": customer.version,
        "created_at": clock.iso(customer.created_at),
        "updated_at": clock.iso(customer.updated_at),
    }


def listing_sort_key(customer: Customer) -> str:
    """Where the account sorts in listings: by legal name (case-insensitive), then id."""
    return f"{BY_NAME}{customer.legal_name.casefold()}#{customer.customer_id}"


@readable.reader
def from_item(item: Item) -> Customer:
    """The account (items written before accounts had terms, limits or an invoicing setting read
    with defaults)."""
    address, terms = item.get("billing_address"), item.get("payment_terms")
    created_at = clock.parse(item["created_at"]) if item.get("created_at") else clock.now()
    return Customer(
        customer_id=item["customer_id"],
        legal_name=item["legal_name"],
        billing_email=item["billing_email"],
        currency=item["currency"],
        contact_email=item.get("contact_email"),
        tax_id=item.get("tax_id"),
        peppol_id=item.get("peppol_id"),
        billing_address=Address.from_stored(address) if address else None,
        payment_terms=PaymentTerms.from_stored(terms) if terms else NET_30,
        credit_limit=Decimal(item.get("credit_limit", 0)),
        dunning_policy=item.get("dunning_policy", "default"),
        invoicing=item.get("invoicing", "per_shipment"),
        credit_application=item.get("credit_application", "manual"),
        pdf_format=item.get("pdf_format", "pdf"),
        order_notices=item.get("order_notices", "default"),
        case_owner=item.get("case_owner"),
        status=CustomerStatus(item.get("status", CustomerStatus.ACTIVE.value)),
        version=int(item.get("version", 1)),
        created_at=created_at,
        updated_at=clock.parse(item["updated_at"]) if item.get("updated_at") else created_at,
    )


def get(customer_id: str, *, consistent: bool = False) -> Customer | None:
    item = table.get(*customer_key(customer_id), consistent=consistent)
    return from_item(item) if item else None


@dataclass(frozen=True)
class Account:
    """The customer's partition as read at one moment."""

    customer: Customer
    links_valid_after: int  # portal links issued before it are revoked (Unix seconds)
    items: dict[str, Item]  # every item of the partition, by sort key


def get_account(customer_id: str) -> Account | None:
    """The account, its portal access and the rest of its partition (dunning's markers, dispute
    holds), in one consistent Query of the partition (more only past DynamoDB's 1 MB page)."""
    pk, sk = customer_key(customer_id)
    items: dict[str, Item] = {}
    cursor: str | None = None
    while True:
        page = table.query_page(pk, limit=PARTITION_PAGE, cursor=cursor, consistent=True)
        items |= {item["sk"]: item for item in page.items}
        if not (cursor := page.cursor):
            break
    if sk not in items:
        return None
    return Account(
        customer=from_item(items[sk]),
        links_valid_after=portal_access.valid_after(items.get(portal_access.SORT_KEY)),
        items=items,
    )


def get_with_exposure(customer_id: str) -> tuple[Customer, CreditExposure | None] | None:
    """The account and its credit figures, read together (one BatchGetItem, consistent)."""
    items = {
        item["sk"]: item
        for item in table.get_many([customer_key(customer_id), credit.credit_key(customer_id)])
    }
    if "CUSTOMER" not in items:
        return None
    exposure = credit.from_item(items[credit.SORT_KEY]) if credit.SORT_KEY in items else None
    return from_item(items["CUSTOMER"]), exposure


def get_many(customer_ids: Iterable[str]) -> list[Customer]:
    """The accounts that exist among ``customer_ids`` (consistent; missing ones are left out)."""
    return readable.each(table.get_many(customer_key(cid) for cid in customer_ids), from_item)


def opening_writes(customer: Customer) -> list[Write]:
    """A new account and its credit item (its limit, nothing owed yet)."""
    return [
        Put.new(to_item(customer)),
        Put.new(credit.credit_item(customer.customer_id, customer.currency, customer.credit_limit)),
    ]


def create(customer: Customer, events: Sequence[DomainEvent] = ()) -> None:
    """Open the account and its credit item, with its events, in one transaction.

    Raises ``outbox.StaleStateError`` when the id is taken.
    """
    outbox.commit(opening_writes(customer), events)


def amending_writes(before: Customer, after: Customer) -> list[Write]:
    """The account replaced at the version it was read; a new limit moves the headroom too."""
    writes: list[Write] = [Put.replacing(to_item(after), before.version)]
    if after.credit_limit != before.credit_limit:
        writes.append(
            credit.change_limit(after.customer_id, before.credit_limit, after.credit_limit)
        )
    return writes


def update(before: Customer, after: Customer, event: DomainEvent) -> None:
    """Raises ``outbox.StaleStateError`` when the account changed since ``before`` was read."""
    outbox.commit(amending_writes(before, after), [event])


def list_page(*, limit: int, cursor: str | None = None) -> tuple[list[Customer], str | None]:
    """Accounts by legal name, one page at a time (``table.InvalidCursorError`` on a bad cursor)."""
    if cursor:
        _require_listing_cursor(cursor)
    page = table.query_page(LISTING, index="gsi2", sk_from=BY_NAME, limit=limit, cursor=cursor)
    return readable.each(page.items, from_item), page.cursor


def cursor_at(customer: Customer) -> str:
    """The listing's cursor of the page that follows ``customer``."""
    pk, sk = customer_key(customer.customer_id)
    key = {"pk": pk, "sk": sk, "gsi2pk": LISTING, "gsi2sk": listing_sort_key(customer)}
    return table._encode_cursor(table.to_dynamo(key))


def _require_listing_cursor(cursor: str) -> None:
    """Refuse a cursor of another partition or index before DynamoDB does (with a 500)."""
    key = table.from_dynamo(table._decode_cursor(cursor))
    if set(key) != {"pk", "sk", "gsi2pk", "gsi2sk"} or key["gsi2pk"] != LISTING:
        raise table.InvalidCursorError(cursor)
