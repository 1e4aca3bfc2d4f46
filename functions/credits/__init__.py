"""Customer credits: list them, apply them to open invoices, pay them back."""
