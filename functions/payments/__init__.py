"""Payments intake: gateway webhooks, bank statements and manual entries become Payments."""
