"""Where the ``stripe`` library sends its requests: Stripe's API unless ``STRIPE_API_BASE``
names another base (set only where a stub answers for Stripe on this machine, as the local
stack's browser test does: the library then runs for real and only the HTTP exchange is faked).
"""

from __future__ import annotations

import stripe

from shared.config import settings


def use_configured_base() -> None:
    """Point the library at the configured base, when one is configured."""
    if base := settings().stripe_api_base:
        stripe.api_base = base
