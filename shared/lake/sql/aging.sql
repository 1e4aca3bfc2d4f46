-- AR aging at the end of {{as_of}} (UTC): per currency and customer, the open receivables by
-- bucket of days past due (bucket 0: not past due; bucket n: past the (n-1)th edge, up to the
-- nth; unused edges are past any age), the number of open items, and (bucket NULL) the money
-- held for the customer: received and not applied, or credit owed.
WITH
{{_open_items}},
aged AS (
    SELECT customer_id, currency, amount, date_diff('day', due_on, {{as_of}}) AS overdue
    FROM open_items
),
bucketed AS (
    SELECT
        customer_id,
        currency,
        amount,
        CASE WHEN overdue > 0 THEN 1 ELSE 0 END
        + CASE WHEN overdue > {{edge_1}} THEN 1 ELSE 0 END
        + CASE WHEN overdue > {{edge_2}} THEN 1 ELSE 0 END
        + CASE WHEN overdue > {{edge_3}} THEN 1 ELSE 0 END
        + CASE WHEN overdue > {{edge_4}} THEN 1 ELSE 0 END
        + CASE WHEN overdue > {{edge_5}} THEN 1 ELSE 0 END
        + CASE WHEN overdue > {{edge_6}} THEN 1 ELSE 0 END
        + CASE WHEN overdue > {{edge_7}} THEN 1 ELSE 0 END
        + CASE WHEN overdue > {{edge_8}} THEN 1 ELSE 0 END AS bucket
    FROM aged
),
{{_customer_names}},
figures AS (
    SELECT
        currency,
        customer_id,
        bucket,
        SUM(amount) AS amount,
        COUNT(*) AS open_items
    FROM bucketed
    GROUP BY currency, customer_id, bucket
    UNION ALL
    SELECT currency, customer_id, NULL AS bucket, unapplied AS amount, 0 AS open_items
    FROM held
)
SELECT f.currency, f.customer_id, n.legal_name AS customer_name, f.bucket, f.amount, f.open_items
FROM figures AS f
LEFT JOIN customer_names AS n ON n.customer_id = f.customer_id
ORDER BY f.currency, f.customer_id, f.bucket
