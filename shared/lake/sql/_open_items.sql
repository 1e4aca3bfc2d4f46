-- Fragment (common table expressions, included by open_items.sql and aging.sql): what every open
-- item had open at the end of {{as_of}} (UTC), and the money held for each customer then.
-- An open item is an invoice, a fee or interest charge, or an entry naming neither (its own
-- entry): journal.item_id, resolved when the row landed. A posting may land more than once (the
-- landing is at least once): an entry posts to each of these accounts at most once, so a
-- distinct (entry, account) is one posting.
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
        posted_at,
        CAST(posted_at AS DATE) AS posted_on,
        debit - credit AS amount
    FROM journal
    WHERE dt <= {{as_of_dt}}
        AND account IN ('receivables', 'unapplied_cash')
        AND CAST(posted_at AS DATE) <= {{as_of}}
),
items AS (
    SELECT
        customer_id,
        currency,
        item_id,
        MIN(posted_on) AS first_on,
        MIN(CASE WHEN kind IN ('fee', 'interest') THEN posted_on END) AS charged_on,
        SUM(amount) AS amount
    FROM moves
    WHERE account = 'receivables'
    GROUP BY customer_id, currency, item_id
    HAVING SUM(amount) <> 0
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
    SELECT customer_id, currency, -SUM(amount) AS unapplied
    FROM moves
    WHERE account = 'unapplied_cash'
    GROUP BY customer_id, currency
    HAVING SUM(amount) <> 0
)
