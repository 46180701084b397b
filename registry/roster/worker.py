"""Queued imports from the web: handed to the jobs process, or (IMPORTS_INLINE, tests) processed in the request.

The web never runs an import in a thread of its own: a page upload (or a large API upload) is
stored as a queued ImportRun and committed, and the jobs process's executor (jobs/imports.py)
claims and processes it while the page polls. With the app's IMPORTS_INLINE set (tests only),
`start` hands the run to that same executor code in the request: `create_app` puts it in
`app.extensions["registry.imports_inline"]`, so this feature never imports the jobs process.
"""

from __future__ import annotations

from datetime import date

from flask import Flask

from registry.domain.actors import Actor

__all__ = ["process", "start"]


def start(app: Flask, run_id: int, actor: Actor, today: date) -> None:
    """Hand a committed queued run on: the jobs process picks it up, or it is processed here (IMPORTS_INLINE)."""
    if app.config.get("IMPORTS_INLINE"):
        process(app, run_id, actor, today)


def process(app: Flask, run_id: int, actor: Actor, today: date) -> None:
    """Claim the queued run and process it here as `actor` (the jobs executor's code); a run not queued any
    more is left alone."""
    app.extensions["registry.imports_inline"](app, run_id, actor, today)
