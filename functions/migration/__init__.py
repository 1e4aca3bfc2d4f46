"""Data migration: CSV files of customers, catalog, stock and receivables, row by row."""
