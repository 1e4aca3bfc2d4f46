"""Invoicing: issuing invoices and credit notes, and rendering and delivering their documents."""
