-- Fragment (common table expressions, included by open_items.sql and aging.sql): what every open
-- item had open at the end of {{as_of}} (UTC), and the money held for each customer then.
-- An open item is an invoice, a fee or interest charge, or an entry naming neither (its own
-- entry): journal.item_id, resolved when the row landed. A row delivered twice counts once.
postings AS (
    SELECT DISTINCT
        entry_id, customer_id, currency, item_id, kind, posted_at, account, dimension, debit, credit
    FROM journal
    WHERE dt <= {{as_of_dt}}
        AND account IN ('receivables', 'unapplied_cash')
        AND CAST(posted_at AS DATE) <= {{as_of}}
),
entries AS (
    SELECT
        customer_id,
        currency,
        item_id,
        CAST(MIN(posted_at) AS DATE) AS posted_on,
        MIN(CASE WHEN kind IN ('fee', 'interest') THEN CAST(posted_at AS DATE) END) AS charged_on,
        SUM(CASE WHEN account = 'receivables' THEN debit - credit ELSE 0 END) AS receivable,
        SUM(CASE WHEN account = 'unapplied_cash' THEN credit - debit ELSE 0 END) AS unapplied
    FROM postings
    GROUP BY entry_id, customer_id, currency, item_id
),
items AS (
    SELECT
        customer_id,
        currency,
        item_id,
        MIN(posted_on) AS first_on,
        MIN(charged_on) AS charged_on,
        SUM(receivable) AS amount
    FROM entries
    WHERE receivable <> 0
    GROUP BY customer_id, currency, item_id
    HAVING SUM(receivable) <> 0
),
due_dates AS (
    SELECT invoice_id, MAX(due_on) AS due_on
    FROM documents
    GROUP BY invoice_id
),
open_items AS (
    -- Due: the invoice's due date, else the day a charge was charged, else the day the item was
    -- first moved (an entry naming no invoice, or an invoice without a due date).
    SELECT
        i.customer_id,
        i.currency,
        i.item_id,
        COALESCE(d.due_on, i.charged_on, i.first_on) AS due_on,
        i.amount
    FROM items AS i
    LEFT JOIN due_dates AS d ON d.invoice_id = i.item_id
),
held AS (
    SELECT customer_id, currency, SUM(unapplied) AS unapplied
    FROM entries
    GROUP BY customer_id, currency
    HAVING SUM(unapplied) <> 0
)
