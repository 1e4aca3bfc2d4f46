"""Customer accounts, partners, staff and API keys: one module per use case."""
