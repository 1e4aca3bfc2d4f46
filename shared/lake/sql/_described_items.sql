-- Fragment (common table expressions after _open_items.sql's, included by positions.sql): each
-- open item as an open-items row describes it, as shared/domain/statement.py's open_invoice
-- does. An invoice (one with a document): its number, issue day and legacy flag, kind
-- 'invoice'. Else its id's kind ('fee', 'interest', or the kind of the entry naming no invoice),
-- issued the day it is due (charged, or first moved), numbered by the invoice a charge was
-- charged on (the entry's invoice, else its source id '<invoice id>:<level or day>'), else by
-- its own id.
documented AS (
    SELECT
        invoice_id,
        MAX(number) AS number,
        MAX(issued_on) AS issued_on,
        BOOL_OR(legacy) AS legacy
    FROM documents
    GROUP BY invoice_id
),
charged AS (
    SELECT DISTINCT
        entry_id,
        COALESCE(invoice_id, NULLIF(REGEXP_EXTRACT(source_id, '^(.*):', 1), '')) AS invoice_id
    FROM moves
    WHERE kind IN ('fee', 'interest')
),
described_items AS (
    SELECT
        o.customer_id,
        o.currency,
        o.item_id,
        o.due_on,
        o.amount,
        CASE WHEN d.invoice_id IS NULL THEN SPLIT_PART(o.item_id, ':', 1) ELSE 'invoice' END
            AS kind,
        COALESCE(d.number, c_doc.number, o.item_id) AS number,
        COALESCE(d.issued_on, o.due_on) AS issued_on,
        COALESCE(d.legacy, FALSE) AS legacy
    FROM open_items AS o
    LEFT JOIN documented AS d ON d.invoice_id = o.item_id
    LEFT JOIN charged AS c ON c.entry_id = o.item_id
    LEFT JOIN documented AS c_doc ON c_doc.invoice_id = c.invoice_id
)
