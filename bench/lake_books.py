"""Books of a given size in the lake's format, written straight by DuckDB (bench/lake.py).

``rows`` journal rows over two years of days up to ``AS_OF``: invoices (receivables, revenue,
VAT: three rows), most paid in full within 75 days by a payment (cash, unapplied cash) applied
to them (unapplied cash, receivables), the rest open; their documents, one order each
(confirmed two days before the invoice, shipped complete when it was issued), the payments with
the matcher's decision, a dispute on one invoice in a hundred, and the customers. Amounts,
fates and days come from a hash of the invoice's number, so a size is the same books each run.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

AS_OF = date(2026, 6, 30)
DAYS = 730
ROWS_PER_INVOICE = 6.4  # 3 for the invoice, 4 more for the 85 % paid


def invoices_for(rows: int) -> int:
    return max(1, int(rows / ROWS_PER_INVOICE))


def customers_for(invoices: int) -> int:
    return max(10, invoices // 100)


def write(connection: Any, root: Path, rows: int) -> tuple[int, int]:
    """Write the books to ``root``; (invoices, customers)."""
    invoices = invoices_for(rows)
    customers = customers_for(invoices)
    connection.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE invoice AS
        SELECT
            n,
            'inv_' || n AS invoice_id,
            'cus_' || (hash(n) % {customers}) AS customer_id,
            CASE WHEN hash(n * 3) % 5 = 0 THEN 'USD' ELSE 'EUR' END AS currency,
            CAST(
                DATE '{AS_OF.isoformat()}' - INTERVAL '{DAYS - 1}' DAY
                + INTERVAL '1' DAY * (n * {DAYS} // {invoices})
                + INTERVAL '1' HOUR * (8 + hash(n * 5) % 10) AS TIMESTAMP_MS
            ) AS issued_at,
            CAST((hash(n * 7) % 500000 + 1000) / 100 AS DECIMAL(20, 4)) AS net,
            hash(n * 11) % 100 < 85 AS paid,
            hash(n * 13) % 75 AS paid_after
        FROM range({invoices}) AS numbers (n)
        """
    )
    connection.execute(
        """
        CREATE OR REPLACE TEMP TABLE invoice_figures AS
        SELECT
            *,
            CAST(ROUND(net * 0.19, 2) AS DECIMAL(20, 4)) AS tax,
            CAST(ROUND(net * 1.19, 2) AS DECIMAL(20, 4)) AS total,
            CAST(issued_at + INTERVAL '1' DAY * paid_after + INTERVAL '2' HOUR AS TIMESTAMP_MS)
                AS paid_at
        FROM invoice
        """
    )
    journal = """
        SELECT
            'invoice:' || invoice_id AS entry_id, customer_id, currency, issued_at AS posted_at,
            'invoice' AS kind, invoice_id AS source_id, invoice_id, NULL AS payment_id,
            NULL AS charge_id, invoice_id AS item_id, posting.account,
            CASE WHEN posting.account = 'receivables' THEN NULL ELSE 'S:19' END AS dimension,
            CASE WHEN posting.account = 'receivables' THEN total ELSE 0 END AS debit,
            CASE posting.account WHEN 'revenue' THEN net WHEN 'tax_payable' THEN tax ELSE 0 END
                AS credit
        FROM invoice_figures
        CROSS JOIN (VALUES ('receivables'), ('revenue'), ('tax_payable')) AS posting (account)
        UNION ALL
        SELECT
            'payment:pay_' || n, customer_id, currency, paid_at - INTERVAL '1' HOUR, 'payment',
            'pay_' || n, NULL, 'pay_' || n, NULL, 'payment:pay_' || n, posting.account,
            CASE WHEN posting.account = 'cash' THEN 'gateway:stripe' END,
            CASE WHEN posting.account = 'cash' THEN total ELSE 0 END,
            CASE WHEN posting.account = 'unapplied_cash' THEN total ELSE 0 END
        FROM invoice_figures
        CROSS JOIN (VALUES ('cash'), ('unapplied_cash')) AS posting (account)
        WHERE paid
        UNION ALL
        SELECT
            'allocation:al_' || n, customer_id, currency, paid_at, 'allocation', 'al_' || n,
            invoice_id, 'pay_' || n, NULL, invoice_id, posting.account, NULL,
            CASE WHEN posting.account = 'unapplied_cash' THEN total ELSE 0 END,
            CASE WHEN posting.account = 'receivables' THEN total ELSE 0 END
        FROM invoice_figures
        CROSS JOIN (VALUES ('unapplied_cash'), ('receivables')) AS posting (account)
        WHERE paid
    """
    tables = {
        "journal": f"SELECT *, strftime(posted_at, '%Y-%m-%d') AS dt FROM ({journal})",
        "documents": """
            SELECT invoice_id, customer_id, 'INV-' || n AS number, currency, 'invoice' AS kind,
                CAST(issued_at AS DATE) AS issued_on,
                CAST(issued_at + INTERVAL '30' DAY AS DATE) AS due_on, total,
                NULL AS credited_invoice_id, false AS legacy,
                CAST(0 AS DECIMAL(20, 4)) AS open_amount, issued_at AS recorded_at,
                strftime(issued_at, '%Y-%m-%d') AS dt
            FROM invoice_figures
        """,
        "orders": """
            SELECT 'ord_' || n AS order_id, customer_id, currency,
                CAST(issued_at - INTERVAL '2' DAY AS TIMESTAMP_MS) AS confirmed_at,
                issued_at AS shipped_complete_at, issued_at AS recorded_at,
                strftime(issued_at, '%Y-%m-%d') AS dt
            FROM invoice_figures
        """,
        "payments": """
            SELECT 'pay_' || n AS payment_id, customer_id, currency,
                CAST(paid_at - INTERVAL '1' HOUR AS TIMESTAMP_MS) AS received_at,
                CASE WHEN hash(n * 17) % 10 < 8 THEN paid_at END AS auto_applied_at,
                paid_at AS recorded_at, strftime(paid_at, '%Y-%m-%d') AS dt
            FROM invoice_figures
            WHERE paid
        """,
        "disputes": """
            SELECT invoice_id, currency, issued_at + INTERVAL '20' DAY AS opened_at,
                CASE WHEN hash(n * 19) % 2 = 0 THEN issued_at + INTERVAL '40' DAY END
                    AS closed_at,
                issued_at + INTERVAL '40' DAY AS recorded_at,
                strftime(issued_at + INTERVAL '40' DAY, '%Y-%m-%d') AS dt
            FROM invoice_figures
            WHERE hash(n * 23) % 100 = 0
        """,
        "customers": f"""
            SELECT 'cus_' || n AS customer_id, 'Customer ' || n || ' GmbH' AS legal_name,
                TIMESTAMP '2024-01-01 00:00:00' AS recorded_at, '2024-01-01' AS dt
            FROM range({customers}) AS numbers (n)
        """,
    }
    for table, select in tables.items():
        target = str(root / table).replace("'", "''")
        connection.execute(
            f"COPY ({select}) TO '{target}' (FORMAT parquet, PARTITION_BY (dt), "
            "OVERWRITE_OR_IGNORE true)"
        )
    return invoices, customers
