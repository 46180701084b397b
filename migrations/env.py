"""Alembic environment: the URL comes from the settings (or the caller's connection)."""

from __future__ import annotations

import re
import warnings
from collections.abc import Iterator
from contextlib import contextmanager

from alembic import context
from sqlalchemy import text

import registry.schema  # noqa: F401  (registers the tables)
from config import load_settings
from registry.platform.db import Base, make_engine

config = context.config


def _for_dialect(name: str):  # noqa: ANN202
    """Leave out of the comparison the model's objects made for another dialect only (`.ddl_if(dialect=…)`:
    the PostgreSQL trigram indexes of 0019 and bigram index of 0035, which SQLite does not have)."""
    def include(obj, _name, type_, reflected, _compare_to) -> bool:  # noqa: ANN001
        only = getattr(getattr(obj, "_ddl_if", None), "dialect", None)
        return reflected or type_ != "index" or only is None or only == name
    return include


@contextmanager
def _quiet_about_other_dialects(name: str) -> Iterator[None]:
    """Alembic warns about every expression index of the model that a dialect cannot reflect (SQLite) before
    `include_object` leaves it out: silence that warning for the indexes made for another dialect only (the
    PostgreSQL bigram index of 0035), so a real one still fails `alembic check` under pytest."""
    with warnings.catch_warnings():
        for table in Base.metadata.tables.values():
            for index in table.indexes:
                only = getattr(getattr(index, "_ddl_if", None), "dialect", None)
                if only is not None and only != name:
                    warnings.filterwarnings("ignore", message=re.escape(
                        f"autogenerate skipping metadata-specified expression-based index {index.name!r}"))
        yield


def _configure(connection) -> None:  # noqa: ANN001
    context.configure(connection=connection, target_metadata=Base.metadata,
                      render_as_batch=True, compare_type=True,
                      include_object=_for_dialect(connection.dialect.name))


def run_migrations_online() -> None:
    """Run against a live connection; SQLite's foreign keys are off while batch mode copies tables."""
    connection = config.attributes.get("connection")
    if connection is not None:
        _configure(connection)
        with context.begin_transaction(), _quiet_about_other_dialects(connection.dialect.name):
            context.run_migrations()
        return
    url = config.get_main_option("sqlalchemy.url") or load_settings().database_url
    engine = make_engine(url)
    with engine.connect() as conn:
        if conn.dialect.name == "sqlite":
            # Straight to the driver: a PRAGMA inside SQLAlchemy's transaction would be a no-op.
            conn.connection.dbapi_connection.execute("PRAGMA foreign_keys=OFF")
        _configure(conn)
        with context.begin_transaction(), _quiet_about_other_dialects(conn.dialect.name):
            context.run_migrations()
        conn.commit()
        if conn.dialect.name == "sqlite":
            problems = conn.execute(text("PRAGMA foreign_key_check")).fetchall()
            if problems:
                raise RuntimeError(f"foreign key check failed after migration: {problems[:5]}")
    engine.dispose()


run_migrations_online()
