"""Reporting: AR aging and KPIs, the nightly snapshot, and the finance dashboard."""
