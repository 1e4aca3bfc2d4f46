-- Customer behaviour over the window {{start}}..{{as_of}} (both included, UTC days), one row per
-- customer and currency: the exact parts of every figure (counts, day sums, amounts), from which
-- shared/domain/behaviour.py divides and scores. The window's second half starts on
-- {{second_half}}. Each journal posting is read once however often it landed; facts tables keep
-- their latest row; events are read once per promise.
WITH
{{_open_items}},
invoice_moves AS (
    -- Receivable moves of each invoice up to {{as_of}} (not of its fees or interest).
    SELECT item_id AS invoice_id, entry_id, kind, posted_at, posted_on, amount
    FROM moves
    WHERE account = 'receivables' AND kind NOT IN ('fee', 'interest') AND item_id IS NOT NULL
),
small_differences AS (
    SELECT DISTINCT entry_id
    FROM journal
    WHERE dt BETWEEN {{start_dt}} AND {{as_of_dt}} AND account = 'small_differences'
),
runs AS (
    SELECT
        invoice_id,
        entry_id,
        kind,
        posted_on,
        SUM(amount) OVER (PARTITION BY invoice_id) AS open_at_end,
        ROW_NUMBER() OVER (
            PARTITION BY invoice_id ORDER BY posted_at DESC, entry_id DESC
        ) AS newest
    FROM invoice_moves
),
invoices AS (
    SELECT DISTINCT invoice_id, customer_id, currency, issued_on, due_on
    FROM documents
    WHERE kind = 'invoice' AND NOT legacy
),
paid AS (
    -- Invoices whose open item cash or credit (or a small difference written off) brought to 0
    -- within the window, and that stayed at 0 to its end: paid the day of that last move.
    SELECT
        i.customer_id,
        i.currency,
        r.posted_on >= {{second_half}} AS in_second_half,
        date_diff('day', i.issued_on, r.posted_on) AS to_pay,
        GREATEST(date_diff('day', COALESCE(i.due_on, i.issued_on), r.posted_on), 0) AS beyond
    FROM runs AS r
    INNER JOIN invoices AS i ON i.invoice_id = r.invoice_id
    WHERE
        r.newest = 1
        AND r.open_at_end = 0
        AND r.posted_on >= {{start}}
        AND (
            r.kind IN ('allocation', 'credit_note')
            OR (r.kind = 'write_off' AND r.entry_id IN (SELECT entry_id FROM small_differences))
        )
),
payment AS (
    SELECT
        customer_id,
        currency,
        COUNT(*) AS invoices_paid,
        SUM(to_pay) AS days_to_pay,
        SUM(beyond) AS days_beyond,
        SUM(CASE WHEN beyond > 0 THEN 1 ELSE 0 END) AS paid_late,
        SUM(CASE WHEN in_second_half THEN 0 ELSE 1 END) AS first_paid,
        SUM(CASE WHEN in_second_half THEN 0 ELSE to_pay END) AS first_days_to_pay,
        SUM(CASE WHEN in_second_half THEN 0 ELSE beyond END) AS first_days_beyond,
        SUM(CASE WHEN in_second_half THEN 1 ELSE 0 END) AS second_paid,
        SUM(CASE WHEN in_second_half THEN to_pay ELSE 0 END) AS second_days_to_pay,
        SUM(CASE WHEN in_second_half THEN beyond ELSE 0 END) AS second_days_beyond
    FROM paid
    GROUP BY customer_id, currency
),
exposure AS (
    -- What was open at the end of {{as_of}} (items owed, not credit), and how much was past due.
    SELECT
        customer_id,
        currency,
        COUNT(*) AS items_open,
        SUM(amount) AS open_amount,
        SUM(CASE WHEN due_on < {{as_of}} THEN 1 ELSE 0 END) AS items_overdue,
        SUM(CASE WHEN due_on < {{as_of}} THEN amount ELSE 0 END) AS overdue_amount
    FROM open_items
    WHERE amount > 0
    GROUP BY customer_id, currency
),
dispute_facts AS (
    SELECT invoice_id, opened_at
    FROM (
        SELECT
            invoice_id,
            opened_at,
            ROW_NUMBER() OVER (
                PARTITION BY invoice_id, opened_at
                ORDER BY recorded_at DESC, closed_at DESC NULLS LAST
            ) AS newest
        FROM disputes
        WHERE CAST(opened_at AS DATE) BETWEEN {{start}} AND {{as_of}}
    ) AS latest
    WHERE newest = 1
),
disputed AS (
    SELECT d.customer_id, d.currency, COUNT(*) AS disputes_opened
    FROM dispute_facts AS f
    INNER JOIN (SELECT DISTINCT invoice_id, customer_id, currency FROM documents) AS d
        ON d.invoice_id = f.invoice_id
    GROUP BY d.customer_id, d.currency
),
promise_events AS (
    -- Promises to pay recorded, found kept and found broken in the window: each promise once
    -- per kind. The event's data (JSON text) names the customer and the promise; its
    -- aggregate is the invoice, whose document gives the currency.
    SELECT DISTINCT
        e.detail_type,
        json_extract_scalar(e.data, '$.customer_id') AS customer_id,
        json_extract_scalar(e.data, '$.promise_id') AS promise_id,
        d.currency
    FROM events AS e
    INNER JOIN (SELECT DISTINCT invoice_id, currency FROM documents) AS d
        ON d.invoice_id = e.aggregate_id
    WHERE e.dt BETWEEN {{start_dt}} AND {{as_of_dt}}
        AND e.detail_type IN ('PromiseToPayRecorded', 'PromiseKept', 'PromiseBroken')
        AND CAST(e.occurred_at AS DATE) BETWEEN {{start}} AND {{as_of}}
),
promised AS (
    SELECT
        customer_id,
        currency,
        SUM(CASE WHEN detail_type = 'PromiseToPayRecorded' THEN 1 ELSE 0 END) AS promises_made,
        SUM(CASE WHEN detail_type = 'PromiseKept' THEN 1 ELSE 0 END) AS promises_kept,
        SUM(CASE WHEN detail_type = 'PromiseBroken' THEN 1 ELSE 0 END) AS promises_broken
    FROM promise_events
    WHERE customer_id IS NOT NULL
    GROUP BY customer_id, currency
),
order_facts AS (
    -- Every order's first confirmation, as last recorded.
    SELECT customer_id, currency, CAST(confirmed_at AS DATE) AS confirmed_on
    FROM (
        SELECT
            customer_id,
            currency,
            confirmed_at,
            ROW_NUMBER() OVER (PARTITION BY order_id ORDER BY recorded_at DESC) AS newest
        FROM orders
    ) AS latest
    WHERE newest = 1 AND CAST(confirmed_at AS DATE) <= {{as_of}}
),
ordering AS (
    SELECT
        customer_id,
        currency,
        MIN(confirmed_on) AS first_order_on,
        MAX(confirmed_on) AS last_order_on,
        SUM(CASE WHEN confirmed_on >= {{start}} THEN 1 ELSE 0 END) AS orders_confirmed
    FROM order_facts
    GROUP BY customer_id, currency
),
invoicing AS (
    -- Invoiced net of credit notes issued in the window, and the invoices' terms.
    SELECT
        customer_id,
        currency,
        SUM(CASE WHEN kind = 'invoice' THEN total ELSE -total END) AS invoiced,
        SUM(CASE WHEN kind = 'invoice' THEN 1 ELSE 0 END) AS invoices_issued,
        SUM(
            CASE
                WHEN kind = 'invoice'
                    THEN date_diff('day', issued_on, COALESCE(due_on, issued_on))
                ELSE 0
            END
        ) AS terms_days
    FROM (
        SELECT DISTINCT invoice_id, customer_id, currency, kind, issued_on, due_on, total
        FROM documents
        WHERE NOT legacy AND issued_on BETWEEN {{start}} AND {{as_of}}
    ) AS issued
    GROUP BY customer_id, currency
),
{{_customer_names}},
keys AS (
    SELECT customer_id, currency FROM payment
    UNION
    SELECT customer_id, currency FROM exposure
    UNION
    SELECT customer_id, currency FROM disputed
    UNION
    SELECT customer_id, currency FROM promised
    UNION
    SELECT customer_id, currency FROM ordering
    UNION
    SELECT customer_id, currency FROM invoicing
)
SELECT
    k.customer_id,
    n.legal_name AS customer_name,
    k.currency,
    COALESCE(p.invoices_paid, 0) AS invoices_paid,
    COALESCE(p.days_to_pay, 0) AS days_to_pay,
    COALESCE(p.days_beyond, 0) AS days_beyond,
    COALESCE(p.paid_late, 0) AS paid_late,
    COALESCE(p.first_paid, 0) AS first_paid,
    COALESCE(p.first_days_to_pay, 0) AS first_days_to_pay,
    COALESCE(p.first_days_beyond, 0) AS first_days_beyond,
    COALESCE(p.second_paid, 0) AS second_paid,
    COALESCE(p.second_days_to_pay, 0) AS second_days_to_pay,
    COALESCE(p.second_days_beyond, 0) AS second_days_beyond,
    COALESCE(x.items_open, 0) AS items_open,
    COALESCE(x.open_amount, 0) AS open_amount,
    COALESCE(x.items_overdue, 0) AS items_overdue,
    COALESCE(x.overdue_amount, 0) AS overdue_amount,
    COALESCE(d.disputes_opened, 0) AS disputes_opened,
    COALESCE(m.promises_made, 0) AS promises_made,
    COALESCE(m.promises_kept, 0) AS promises_kept,
    COALESCE(m.promises_broken, 0) AS promises_broken,
    o.first_order_on,
    o.last_order_on,
    COALESCE(o.orders_confirmed, 0) AS orders_confirmed,
    COALESCE(i.invoiced, 0) AS invoiced,
    COALESCE(i.invoices_issued, 0) AS invoices_issued,
    COALESCE(i.terms_days, 0) AS terms_days
FROM keys AS k
LEFT JOIN customer_names AS n ON n.customer_id = k.customer_id
LEFT JOIN payment AS p ON p.customer_id = k.customer_id AND p.currency = k.currency
LEFT JOIN exposure AS x ON x.customer_id = k.customer_id AND x.currency = k.currency
LEFT JOIN disputed AS d ON d.customer_id = k.customer_id AND d.currency = k.currency
LEFT JOIN promised AS m ON m.customer_id = k.customer_id AND m.currency = k.currency
LEFT JOIN ordering AS o ON o.customer_id = k.customer_id AND o.currency = k.currency
LEFT JOIN invoicing AS i ON i.customer_id = k.customer_id AND i.currency = k.currency
ORDER BY k.customer_id, k.currency
