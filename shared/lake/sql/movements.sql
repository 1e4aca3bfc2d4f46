-- What moved from {{since}} to {{as_of}} (both included, UTC days), read from those days'
-- partitions only: one row per item the days' postings moved (the receivable's net move) and,
-- item_id NULL, per customer the net change of the money held (received and not applied, or
-- credit owed). due_on is the item's due date when these days tell it: the due date of a
-- document recorded in them, else the posting day of an entry that is its own item (a fee,
-- interest, an entry naming no invoice); NULL otherwise (an item older than {{since}}).
-- customer_name: the name last recorded in these days, if any; a customer named in these days
-- has a row of its name alone too (currency NULL).
WITH
moves AS (
    SELECT DISTINCT
        entry_id,
        account,
        customer_id,
        currency,
        item_id,
        CAST(posted_at AS DATE) AS posted_on,
        debit - credit AS amount
    FROM journal
    WHERE dt BETWEEN {{since_dt}} AND {{as_of_dt}}
        AND account IN ('receivables', 'unapplied_cash')
        AND CAST(posted_at AS DATE) BETWEEN {{since}} AND {{as_of}}
),
items AS (
    SELECT
        customer_id,
        currency,
        item_id,
        MIN(CASE WHEN entry_id = item_id THEN posted_on END) AS born_on,
        SUM(amount) AS amount
    FROM moves
    WHERE account = 'receivables'
    GROUP BY customer_id, currency, item_id
),
due_dates AS (
    SELECT invoice_id, MAX(due_on) AS due_on
    FROM documents
    WHERE dt BETWEEN {{since_dt}} AND {{as_of_dt}}
    GROUP BY invoice_id
),
held AS (
    SELECT customer_id, currency, -SUM(amount) AS amount
    FROM moves
    WHERE account = 'unapplied_cash'
    GROUP BY customer_id, currency
),
named AS (
    SELECT customer_id, legal_name
    FROM (
        SELECT
            customer_id,
            legal_name,
            ROW_NUMBER() OVER (PARTITION BY customer_id ORDER BY recorded_at DESC) AS newest
        FROM customers
        WHERE dt BETWEEN {{since_dt}} AND {{as_of_dt}}
    ) AS latest
    WHERE newest = 1
),
movements AS (
    SELECT
        i.customer_id,
        i.currency,
        i.item_id,
        COALESCE(d.due_on, i.born_on) AS due_on,
        i.amount
    FROM items AS i
    LEFT JOIN due_dates AS d ON d.invoice_id = i.item_id
    UNION ALL
    SELECT customer_id, currency, NULL AS item_id, NULL AS due_on, amount
    FROM held
)
SELECT m.customer_id, n.legal_name AS customer_name, m.currency, m.item_id, m.due_on, m.amount
FROM movements AS m
LEFT JOIN named AS n ON n.customer_id = m.customer_id
UNION ALL
SELECT customer_id, legal_name AS customer_name, NULL, NULL, NULL, NULL
FROM named
ORDER BY customer_id, currency, item_id
