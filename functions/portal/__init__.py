"""The customer portal: a customer's contact opens, by a signed link, their invoices, statement,
history and credits, and pays by bank transfer (see docs/portal.md)."""
