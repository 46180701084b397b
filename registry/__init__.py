"""梯度培育 Registry: the application factory.

create_app() wires settings, the database, the loaded policies, the web blueprints and the CLI.
It has no side effects beyond building the app: no migrations, no scheduler, no network.
"""

from __future__ import annotations

from flask import Flask

from config import Settings, load_settings


def create_app(settings: Settings | None = None) -> Flask:
    """Build the Flask app from settings (from the environment by default)."""
    from jobs.imports import process_inline
    from registry import cli, routes, schema, web  # noqa: F401  (routes and every model register on import)
    from registry.audit.guard import guarded_sessionmaker
    from registry.platform import extensions

    settings = settings or load_settings()
    if settings.clock and not settings.is_production:
        from registry.platform.clock import parse_clock, set_clock

        set_clock(parse_clock(settings.clock, settings.timezone))
    app = Flask(__name__, instance_relative_config=False)
    app.config.update(SECRET_KEY=settings.secret_key, REGISTRY=settings)
    from registry.audit.trail import ChainConfig

    chain = ChainConfig.of(settings)
    extensions.init_app(app, settings, session_factory=lambda engine: guarded_sessionmaker(engine, chain))
    web.init_app(app)
    cli.init_app(app)
    app.extensions["registry.imports_inline"] = process_inline  # IMPORTS_INLINE (tests): the jobs executor's code
    return app
