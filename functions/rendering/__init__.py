"""What the customers see drawn, shared by the contexts that draw it.

``house_style`` and ``pdf_fonts`` (with the font files in ``fonts/``) lay out the PDFs: the
invoice and credit note (functions/invoicing/pdf.py) and the statement of account
(functions/dunning/statement_pdf.py). ``qr_code`` draws the EPC payment QR codes, in the
invoice PDF and on the portal's invoice page. ``html_pages`` renders the customer-facing HTML
pages: the portal's and the cases' satisfaction survey.

Nothing is imported here: each module brings its library (fpdf, segno, Jinja2) only to the
code paths that use it.
"""
