"""The customer-facing HTML pages' template engine: Jinja2, autoescaped, strict (pure).

The templates live beside the contexts that serve them (``functions/portal/templates``: the
portal, its invoice page and the layout every page extends; ``functions/cases/templates``: the
satisfaction survey). Every value is escaped; a page passes markup through only as ``Markup``
it built itself.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from functools import cache
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

FUNCTIONS = Path(__file__).resolve().parents[1]
TEMPLATES = (FUNCTIONS / "portal" / "templates", FUNCTIONS / "cases" / "templates")


@cache
def _environment() -> Environment:
    environment = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(default=True, default_for_string=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    environment.filters["money"] = money
    return environment


def money(value: Any) -> str:
    """``{"amount": "1234.5", "currency": "EUR"}`` -> ``"1,234.50 EUR"`` (the wire's places)."""
    if not isinstance(value, dict):
        return ""
    try:
        amount = Decimal(str(value.get("amount", "0")))
    except InvalidOperation:
        amount = Decimal(0)
    return f"{amount:,} {value.get('currency', '')}".strip()


def page(template: str, **values: Any) -> str:
    """One page (``portal.html``, ``invoice.html``, ``survey.html``...) rendered with ``values``."""
    return _environment().get_template(template).render(**values)
