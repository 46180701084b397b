"""The command line (flask --app app …): `base` holds what every command shares, `commands` the group."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """Register every command."""
    from registry.cli.commands import register

    register(app)
