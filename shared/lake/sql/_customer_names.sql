-- Fragment (a common table expression, included by aging.sql and behaviour.sql): each
-- customer's name as last recorded.
customer_names AS (
    SELECT customer_id, legal_name
    FROM (
        SELECT
            customer_id,
            legal_name,
            ROW_NUMBER() OVER (PARTITION BY customer_id ORDER BY recorded_at DESC) AS newest
        FROM customers
    ) AS named
    WHERE newest = 1
)
