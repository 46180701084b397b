"""The web tier's clock: `now()` is UTC, injectable per app (`app.extensions["registry.clock"]`).

Session timeouts and token expiry are decided against it, so tests move time instead of sleeping.
"""

from __future__ import annotations

from datetime import datetime

from flask import current_app

from registry.db import utcnow


def now() -> datetime:
    """Return the current instant (aware, UTC) from the app's clock."""
    return current_app.extensions.get("registry.clock", utcnow)()
