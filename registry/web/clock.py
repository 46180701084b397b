"""The web tier's clock: `now()` is UTC, injectable per app (`app.extensions["registry.clock"]`);
`today()` is the date in the configured zone (Asia/Shanghai) — the one `today` of the web tier.

Session timeouts and token expiry are decided against it, so tests move time instead of sleeping.
"""

from __future__ import annotations

from datetime import date, datetime

from flask import current_app

from registry.platform import clock
from registry.platform.db import utcnow


def now() -> datetime:
    """Return the current instant (aware, UTC) from the app's clock."""
    return current_app.extensions.get("registry.clock", utcnow)()


def today() -> date:
    """Return today in the configured zone (Asia/Shanghai), from the one clock (registry.platform.clock)."""
    return clock.today_in(current_app.config["REGISTRY"].timezone)
