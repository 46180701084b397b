"""Chinese, server-rendered pages: one blueprint; each feature adds its pages (registry/routes.py imports them)."""

from __future__ import annotations

from flask import Blueprint

# Not "/static": the app's own (empty) static route would shadow it and the stylesheet would 404.
bp = Blueprint("pages", __name__, template_folder="../templates", static_folder="../static",
               static_url_path="/assets")
