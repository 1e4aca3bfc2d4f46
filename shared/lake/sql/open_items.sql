-- Open items at the end of {{as_of}} (UTC): one row per invoice, fee or interest charge, or
-- entry naming neither, that had an amount open then, with its due date.
WITH
{{_open_items}}
SELECT customer_id, currency, item_id, due_on, amount
FROM open_items
ORDER BY customer_id, currency, item_id
