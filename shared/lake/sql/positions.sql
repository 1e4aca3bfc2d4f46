-- The positions at the end of {{as_of}} (UTC) a current aging and open-items list start from
-- (the nightly snapshot keeps them, shared/lake/current.py): one row per open item with its due
-- date and open amount, and its kind, number, issue day and legacy flag as an open-items row
-- shows them; and, item_id NULL, the money held for a customer (received and not applied, or
-- credit owed); each with the customer's name as last recorded; and every customer's name
-- alone (currency NULL), so a customer whose first item comes later is named.
WITH
{{_open_items}},
{{_described_items}},
{{_customer_names}},
positions AS (
    SELECT customer_id, currency, item_id, due_on, amount, kind, number, issued_on, legacy
    FROM described_items
    UNION ALL
    SELECT
        customer_id,
        currency,
        NULL AS item_id,
        NULL AS due_on,
        unapplied AS amount,
        NULL AS kind,
        NULL AS number,
        NULL AS issued_on,
        NULL AS legacy
    FROM held
)
SELECT
    p.customer_id,
    n.legal_name AS customer_name,
    p.currency,
    p.item_id,
    p.due_on,
    p.amount,
    p.kind,
    p.number,
    p.issued_on,
    p.legacy
FROM positions AS p
LEFT JOIN customer_names AS n ON n.customer_id = p.customer_id
UNION ALL
SELECT customer_id, legal_name AS customer_name, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL
FROM customer_names
ORDER BY customer_id, currency, item_id
