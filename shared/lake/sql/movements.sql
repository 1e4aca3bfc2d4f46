-- What moved from {{since}} to {{as_of}} (both included, UTC days), read from those days'
-- partitions only: one row per item the days' postings moved (the receivable's net move) and,
-- item_id NULL, per customer the net change of the money held (received and not applied, or
-- credit owed). due_on is the item's due date when these days tell it: the due date of a
-- document recorded in them, else the posting day of an entry that is its own item (a fee,
-- interest, an entry naming no invoice); NULL otherwise (an item older than {{since}}).
-- kind, number, issued_on, legacy: the item as an open-items row describes it
-- (_described_items.sql), when these days tell it (an invoice whose document they record, an
-- item born in them); a charge whose invoice's document is older has number NULL and
-- charged_invoice_id that invoice's id (shared/lake/current.py numbers it from the positions).
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
        kind,
        invoice_id,
        source_id,
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
documented AS (
    SELECT
        invoice_id,
        MAX(due_on) AS due_on,
        MAX(number) AS number,
        MAX(issued_on) AS issued_on,
        BOOL_OR(legacy) AS legacy
    FROM documents
    WHERE dt BETWEEN {{since_dt}} AND {{as_of_dt}}
    GROUP BY invoice_id
),
charged AS (
    SELECT DISTINCT
        entry_id,
        COALESCE(invoice_id, NULLIF(REGEXP_EXTRACT(source_id, '^(.*):', 1), '')) AS invoice_id
    FROM moves
    WHERE kind IN ('fee', 'interest')
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
        i.amount,
        CASE
            WHEN d.invoice_id IS NOT NULL THEN 'invoice'
            WHEN i.born_on IS NOT NULL THEN SPLIT_PART(i.item_id, ':', 1)
        END AS kind,
        CASE
            WHEN d.invoice_id IS NOT NULL THEN d.number
            WHEN i.born_on IS NOT NULL THEN COALESCE(
                c_doc.number, CASE WHEN c.invoice_id IS NULL THEN i.item_id END
            )
        END AS number,
        COALESCE(d.issued_on, i.born_on) AS issued_on,
        CASE
            WHEN d.invoice_id IS NOT NULL THEN COALESCE(d.legacy, FALSE)
            WHEN i.born_on IS NOT NULL THEN FALSE
        END AS legacy,
        CASE WHEN d.invoice_id IS NULL AND c_doc.invoice_id IS NULL THEN c.invoice_id END
            AS charged_invoice_id
    FROM items AS i
    LEFT JOIN documented AS d ON d.invoice_id = i.item_id
    LEFT JOIN charged AS c ON c.entry_id = i.item_id
    LEFT JOIN documented AS c_doc ON c_doc.invoice_id = c.invoice_id
    UNION ALL
    SELECT
        customer_id,
        currency,
        NULL AS item_id,
        NULL AS due_on,
        amount,
        NULL AS kind,
        NULL AS number,
        NULL AS issued_on,
        NULL AS legacy,
        NULL AS charged_invoice_id
    FROM held
)
SELECT
    m.customer_id,
    n.legal_name AS customer_name,
    m.currency,
    m.item_id,
    m.due_on,
    m.amount,
    m.kind,
    m.number,
    m.issued_on,
    m.legacy,
    m.charged_invoice_id
FROM movements AS m
LEFT JOIN named AS n ON n.customer_id = m.customer_id
UNION ALL
SELECT
    customer_id,
    legal_name AS customer_name,
    NULL,
    NULL,
    NULL,
    NULL,
    NULL,
    NULL,
    NULL,
    NULL,
    NULL
FROM named
ORDER BY customer_id, currency, item_id
