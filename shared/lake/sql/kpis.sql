-- The receivables KPIs of {{start}}..{{end}} (both included, UTC days), one row per currency:
-- the exact parts of every figure (amounts, day counts, counts), from which the report divides
-- (shared/domain/kpis.py has the formulas). Instants compare with the end of {{end}}, i.e.
-- before {{after_end}}; the service window is {{window}}.
WITH
moves AS (
    -- Receivable moves (each entry posts to receivables at most once; a posting landed twice
    -- is one).
    SELECT DISTINCT
        entry_id,
        customer_id,
        currency,
        item_id,
        invoice_id,
        charge_id,
        kind,
        posted_at,
        CAST(posted_at AS DATE) AS posted_on,
        debit - credit AS receivable
    FROM journal
    WHERE dt <= {{end_dt}} AND account = 'receivables' AND CAST(posted_at AS DATE) <= {{end}}
),
items AS (
    -- Each open item's amount at the end of the day before the period and at the period's end.
    SELECT
        customer_id,
        currency,
        item_id,
        MIN(posted_on) AS first_on,
        MIN(CASE WHEN kind IN ('fee', 'interest') THEN posted_on END) AS charged_on,
        SUM(CASE WHEN posted_on <= {{opening}} THEN receivable ELSE 0 END) AS opening_amount,
        SUM(receivable) AS closing_amount
    FROM moves
    GROUP BY customer_id, currency, item_id
),
due_dates AS (
    SELECT invoice_id, MAX(due_on) AS due_on
    FROM documents
    GROUP BY invoice_id
),
receivables AS (
    SELECT
        i.currency,
        SUM(i.opening_amount) AS opening_ar,
        SUM(i.closing_amount) AS closing_ar,
        SUM(
            CASE
                WHEN COALESCE(d.due_on, i.charged_on, i.first_on) >= {{end}}
                    THEN i.closing_amount
                ELSE 0
            END
        ) AS closing_current_ar
    FROM items AS i
    LEFT JOIN due_dates AS d ON d.invoice_id = i.item_id
    WHERE i.opening_amount <> 0 OR i.closing_amount <> 0
    GROUP BY i.currency
),
sold AS (
    -- Invoices issued less credit notes issued (an entry's total: its debits), by currency and
    -- calendar month counted back from the month of {{end}} (0) over the 24 months countback
    -- DSO reads.
    SELECT
        currency,
        (year({{end}}) * 12 + month({{end}}))
        - (year(CAST(posted_at AS DATE)) * 12 + month(CAST(posted_at AS DATE))) AS back,
        CAST(posted_at AS DATE) >= {{start}} AS in_period,
        SUM(CASE WHEN kind = 'invoice' THEN debit ELSE -debit END) AS amount
    FROM (
        -- each posting once, however often it landed
        SELECT DISTINCT entry_id, account, dimension, currency, kind, posted_at, debit
        FROM journal
        WHERE dt BETWEEN {{countback_from_dt}} AND {{end_dt}}
            AND kind IN ('invoice', 'credit_note')
            AND CAST(posted_at AS DATE) BETWEEN {{countback_from}} AND {{end}}
    ) AS postings
    GROUP BY 1, 2, 3
),
sales AS (
    SELECT currency, SUM(amount) AS credit_sales
    FROM sold
    WHERE in_period
    GROUP BY currency
),
months AS (
    SELECT
        back,
        CAST(date_trunc('month', {{end}}) - INTERVAL '1' MONTH * back AS DATE) AS first_on
    FROM (
        VALUES (0), (1), (2), (3), (4), (5), (6), (7), (8), (9), (10), (11),
        (12), (13), (14), (15), (16), (17), (18), (19), (20), (21), (22), (23)
    ) AS counted (back)
),
spans AS (
    SELECT
        back,
        date_diff(
            'day',
            first_on,
            CASE
                WHEN back = 0 THEN {{end}}
                ELSE CAST(first_on + INTERVAL '1' MONTH - INTERVAL '1' DAY AS DATE)
            END
        ) + 1 AS length
    FROM months
),
monthly AS (
    SELECT r.currency, r.closing_ar, s.back, s.length, COALESCE(SUM(m.amount), 0) AS sold
    FROM receivables AS r
    CROSS JOIN spans AS s
    LEFT JOIN sold AS m ON m.currency = r.currency AND m.back = s.back
    WHERE r.closing_ar > 0
    GROUP BY r.currency, r.closing_ar, s.back, s.length
),
counted_back AS (
    -- AR not yet matched by the positive sales of the later months, and their days.
    SELECT
        currency,
        back,
        length,
        sold,
        closing_ar - COALESCE(
            SUM(CASE WHEN sold > 0 THEN sold ELSE 0 END) OVER (
                PARTITION BY currency ORDER BY back
                ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING
            ),
            0
        ) AS rest,
        COALESCE(
            SUM(length) OVER (
                PARTITION BY currency ORDER BY back
                ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING
            ),
            0
        ) AS days_before
    FROM monthly
),
countback AS (
    -- The month whose sales cover the rest of AR: days before it plus its share.
    SELECT currency, days_before, rest, sold, length
    FROM (
        SELECT
            counted_back.*,
            ROW_NUMBER() OVER (PARTITION BY currency ORDER BY back) AS nth
        FROM counted_back
        WHERE sold > 0 AND rest <= sold
    ) AS covering
    WHERE nth = 1
),
invoice_moves AS (
    -- Receivable moves of each invoice (not of its fees or interest, nor cash on them).
    SELECT
        item_id AS invoice_id,
        entry_id,
        kind,
        posted_at,
        posted_on,
        receivable
    FROM moves
    WHERE kind NOT IN ('fee', 'interest') AND charge_id IS NULL
),
closing_in_period AS (
    -- Invoices that cash applied, or a small difference written off, may have closed in the
    -- period: only their moves need reading in order.
    SELECT DISTINCT invoice_id
    FROM invoice_moves
    WHERE kind IN ('allocation', 'write_off') AND posted_on >= {{start}}
),
small_differences AS (
    SELECT DISTINCT entry_id
    FROM journal
    WHERE dt BETWEEN {{start_dt}} AND {{end_dt}} AND account = 'small_differences'
),
runs AS (
    -- Each such invoice's open amount at the end, what cash settled on it, and its last move.
    SELECT
        m.invoice_id,
        m.entry_id,
        m.kind,
        m.posted_on,
        SUM(m.receivable) OVER (PARTITION BY m.invoice_id) AS open_at_end,
        SUM(
            CASE WHEN m.kind IN ('allocation', 'unapplication') THEN -m.receivable ELSE 0 END
        ) OVER (PARTITION BY m.invoice_id) AS settled,
        ROW_NUMBER() OVER (
            PARTITION BY m.invoice_id ORDER BY m.posted_at DESC, m.entry_id DESC
        ) AS newest
    FROM invoice_moves AS m
    INNER JOIN closing_in_period AS c ON c.invoice_id = m.invoice_id
),
invoices AS (
    SELECT DISTINCT invoice_id, currency, issued_on
    FROM documents
    WHERE kind = 'invoice' AND NOT legacy
),
paid AS (
    -- Invoices whose last move closed them by cash applied (or a small difference written
    -- off) within the period, and stayed closed to its end.
    SELECT
        i.currency,
        r.settled,
        r.settled * date_diff('day', i.issued_on, r.posted_on) AS weighted
    FROM runs AS r
    INNER JOIN invoices AS i ON i.invoice_id = r.invoice_id
    WHERE
        r.newest = 1
        AND r.open_at_end = 0
        AND (
            r.kind = 'allocation'
            OR (
                r.kind = 'write_off'
                AND r.entry_id IN (SELECT entry_id FROM small_differences)
            )
        )
        AND r.posted_on >= {{start}}
        AND r.settled > 0
),
days_to_pay AS (
    SELECT
        currency,
        SUM(weighted) AS paid_weighted,
        SUM(settled) AS paid_weight,
        COUNT(*) AS invoices_paid
    FROM paid
    GROUP BY currency
),
order_facts AS (
    -- Orders first confirmed in the period, as last recorded: a confirmation never changes
    -- once recorded, and is recorded on or after the day it happened.
    SELECT currency, confirmed_at, shipped_complete_at
    FROM (
        SELECT
            currency,
            confirmed_at,
            shipped_complete_at,
            -- facts only grow: of rows recorded the same instant, the one that knows more
            ROW_NUMBER() OVER (
                PARTITION BY order_id
                ORDER BY recorded_at DESC, shipped_complete_at DESC NULLS LAST
            ) AS newest
        FROM orders
        WHERE dt >= {{start_dt}} AND CAST(confirmed_at AS DATE) BETWEEN {{start}} AND {{end}}
    ) AS latest
    WHERE newest = 1
),
fulfilment AS (
    SELECT
        currency,
        COUNT(*) AS orders_confirmed,
        SUM(
            CASE
                WHEN shipped_complete_at < {{after_end}}
                    AND shipped_complete_at <= confirmed_at + {{window}}
                    THEN 1
                ELSE 0
            END
        ) AS orders_fulfilled,
        SUM(
            CASE
                WHEN (shipped_complete_at IS NULL OR shipped_complete_at >= {{after_end}})
                    AND confirmed_at + {{window}} >= {{after_end}}
                    THEN 1
                ELSE 0
            END
        ) AS orders_pending
    FROM order_facts
    GROUP BY currency
),
issued AS (
    SELECT DISTINCT invoice_id, currency
    FROM documents
    WHERE kind = 'invoice' AND NOT legacy AND issued_on BETWEEN {{start}} AND {{end}}
),
credited AS (
    SELECT DISTINCT credited_invoice_id AS invoice_id
    FROM documents
    WHERE kind = 'credit_note' AND issued_on <= {{end}} AND credited_invoice_id IS NOT NULL
),
accuracy AS (
    SELECT
        i.currency,
        COUNT(*) AS invoices_issued,
        COUNT(c.invoice_id) AS invoices_credited
    FROM issued AS i
    LEFT JOIN credited AS c ON c.invoice_id = i.invoice_id
    GROUP BY i.currency
),
payment_facts AS (
    -- Payments received in the period, as last recorded (recorded on or after receipt).
    SELECT currency, received_at, auto_applied_at
    FROM (
        SELECT
            currency,
            received_at,
            auto_applied_at,
            ROW_NUMBER() OVER (
                PARTITION BY payment_id
                ORDER BY recorded_at DESC, auto_applied_at DESC NULLS LAST
            ) AS newest
        FROM payments
        WHERE dt >= {{start_dt}} AND CAST(received_at AS DATE) BETWEEN {{start}} AND {{end}}
    ) AS latest
    WHERE newest = 1
),
matching AS (
    SELECT
        currency,
        COUNT(*) AS payments_received,
        SUM(CASE WHEN auto_applied_at < {{after_end}} THEN 1 ELSE 0 END) AS payments_auto_applied
    FROM payment_facts
    GROUP BY currency
),
dispute_facts AS (
    -- A dispute is an invoice's from its opening; its latest row says whether it closed.
    SELECT invoice_id, currency, opened_at, closed_at
    FROM (
        SELECT
            invoice_id,
            currency,
            opened_at,
            closed_at,
            ROW_NUMBER() OVER (
                PARTITION BY invoice_id, opened_at
                ORDER BY recorded_at DESC, closed_at DESC NULLS LAST
            ) AS newest
        FROM disputes
        WHERE opened_at < {{after_end}}
    ) AS latest
    WHERE newest = 1
),
disputed AS (
    SELECT currency, COUNT(DISTINCT invoice_id) AS open_disputes
    FROM dispute_facts
    WHERE closed_at IS NULL OR closed_at >= {{after_end}}
    GROUP BY currency
),
currencies AS (
    SELECT currency FROM receivables
    UNION
    SELECT currency FROM sales
    UNION
    SELECT currency FROM days_to_pay
    UNION
    SELECT currency FROM fulfilment
    UNION
    SELECT currency FROM accuracy
    UNION
    SELECT currency FROM matching
    UNION
    SELECT currency FROM disputed
)
SELECT
    c.currency,
    COALESCE(r.opening_ar, 0) AS opening_ar,
    COALESCE(r.closing_ar, 0) AS closing_ar,
    COALESCE(r.closing_current_ar, 0) AS closing_current_ar,
    COALESCE(s.credit_sales, 0) AS credit_sales,
    b.days_before AS countback_days_before,
    b.rest AS countback_rest,
    b.sold AS countback_sold,
    b.length AS countback_length,
    p.paid_weighted,
    p.paid_weight,
    COALESCE(p.invoices_paid, 0) AS invoices_paid,
    COALESCE(f.orders_confirmed, 0) AS orders_confirmed,
    COALESCE(f.orders_fulfilled, 0) AS orders_fulfilled,
    COALESCE(f.orders_pending, 0) AS orders_pending,
    COALESCE(a.invoices_issued, 0) AS invoices_issued,
    COALESCE(a.invoices_credited, 0) AS invoices_credited,
    COALESCE(m.payments_received, 0) AS payments_received,
    COALESCE(m.payments_auto_applied, 0) AS payments_auto_applied,
    COALESCE(d.open_disputes, 0) AS open_disputes
FROM currencies AS c
LEFT JOIN receivables AS r ON r.currency = c.currency
LEFT JOIN sales AS s ON s.currency = c.currency
LEFT JOIN countback AS b ON b.currency = c.currency
LEFT JOIN days_to_pay AS p ON p.currency = c.currency
LEFT JOIN fulfilment AS f ON f.currency = c.currency
LEFT JOIN accuracy AS a ON a.currency = c.currency
LEFT JOIN matching AS m ON m.currency = c.currency
LEFT JOIN disputed AS d ON d.currency = c.currency
ORDER BY c.currency
