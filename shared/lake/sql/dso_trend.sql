-- Month-end DSO's parts for the months of a trend ({{months}}: each month's first and last day,
-- the last month that of {{end}} up to it), one row per month and currency: AR at the month's
-- last day (the open items' sum, as sql/kpis.sql's closing AR) and the month's credit sales
-- (invoices issued less credit notes issued). A currency has a row in a month when an item in
-- it is open at the month's end or it sold in the month; shared/lake/reports.py divides.
WITH
months AS (
    SELECT first_day, last_day
    FROM (VALUES {{months}}) AS m (first_day, last_day)
),
moves AS (
    -- Receivable moves (each entry posts to receivables at most once; a posting landed twice
    -- is one).
    SELECT DISTINCT
        entry_id,
        customer_id,
        currency,
        item_id,
        CAST(posted_at AS DATE) AS posted_on,
        debit - credit AS receivable
    FROM journal
    WHERE dt <= {{end_dt}} AND account = 'receivables' AND CAST(posted_at AS DATE) <= {{end}}
),
items AS (
    SELECT m.last_day, v.customer_id, v.currency, v.item_id, SUM(v.receivable) AS amount
    FROM months AS m
    INNER JOIN moves AS v ON v.posted_on <= m.last_day
    GROUP BY m.last_day, v.customer_id, v.currency, v.item_id
),
receivables AS (
    SELECT last_day, currency, SUM(amount) AS ar
    FROM items
    WHERE amount <> 0
    GROUP BY last_day, currency
),
postings AS (
    -- each posting of an invoice or credit note once, however often it landed
    SELECT DISTINCT
        entry_id, account, dimension, currency, kind, CAST(posted_at AS DATE) AS posted_on, debit
    FROM journal
    WHERE dt BETWEEN {{first_dt}} AND {{end_dt}}
        AND kind IN ('invoice', 'credit_note')
        AND CAST(posted_at AS DATE) BETWEEN {{first}} AND {{end}}
),
sales AS (
    SELECT
        m.last_day,
        p.currency,
        SUM(CASE WHEN p.kind = 'invoice' THEN p.debit ELSE -p.debit END) AS credit_sales
    FROM months AS m
    INNER JOIN postings AS p ON p.posted_on BETWEEN m.first_day AND m.last_day
    GROUP BY m.last_day, p.currency
),
currencies AS (
    SELECT last_day, currency FROM receivables
    UNION
    SELECT last_day, currency FROM sales
)
SELECT
    m.first_day,
    m.last_day,
    c.currency,
    r.ar,
    s.credit_sales
FROM months AS m
INNER JOIN currencies AS c ON c.last_day = m.last_day
LEFT JOIN receivables AS r ON r.last_day = c.last_day AND r.currency = c.currency
LEFT JOIN sales AS s ON s.last_day = c.last_day AND s.currency = c.currency
ORDER BY m.first_day, c.currency
