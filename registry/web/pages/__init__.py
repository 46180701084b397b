"""Chinese, server-rendered pages: one blueprint, one module per area (imported at the bottom)."""

from __future__ import annotations

from flask import Blueprint

# Not "/static": the app's own (empty) static route would shadow it and the stylesheet would 404.
bp = Blueprint("pages", __name__, template_folder="../templates", static_folder="../static",
               static_url_path="/assets")

from registry.web.pages import account, accounts, audit, dashboard, enterprises, imports, pipeline, proposals, reminders, reports, roster, titles  # noqa: E402, F401  (routes register on import)
