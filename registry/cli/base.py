"""CLI commands (`flask --app app <command>`): each one transaction, Chinese+English errors.

Every command that depends on the date takes --today (Asia/Shanghai by default); bad input exits
non-zero with a one-line reason.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime

import click
from flask import current_app
from sqlalchemy.orm import Session

from registry.domain.actors import Actor, system_actor
from registry.domain.errors import DomainError
from registry.platform import clock
from registry.platform.db import set_read_only, utcnow

today_in = clock.today_in  #: the one "today" (registry.platform.clock), as the commands import it


def cli_actor(name: str = "cli") -> Actor:
    """Return the actor the audit trail names for a CLI command."""
    import getpass

    try:
        user = getpass.getuser()
    except (KeyError, OSError):
        user = "unknown"
    return system_actor("cli", f"{name}@{user}")


@contextmanager
def unit_of_work(*, read_only: bool = False) -> Iterator[Session]:
    """Open a session, commit on success, roll back and exit 1 on a refusal.

    `read_only`: a command that only reads (SQLite: BEGIN DEFERRED — it never takes the write
    lock, so a long check blocks no writer; a write in it is refused).
    """
    session = current_app.extensions["registry.sessionmaker"]()
    set_read_only(session, read_only)
    try:
        yield session
        session.commit()
    except DomainError as exc:
        session.rollback()
        fail(exc.message)
    finally:
        session.close()
        set_read_only(session, False)  # (a factory may hand the same session out again)


def fail(message: str) -> None:
    """Print a one-line reason and exit 1."""
    click.echo(f"错误 / error: {message}", err=True)
    sys.exit(1)


class DateParam(click.ParamType):
    """A YYYY-MM-DD date."""

    name = "YYYY-MM-DD"

    def convert(self, value, param, ctx):  # noqa: ANN001, ANN201, D102
        if isinstance(value, date):
            return value
        try:
            return date.fromisoformat(value)
        except ValueError:
            self.fail(f"日期格式应为 YYYY-MM-DD / not a date: {value!r}", param, ctx)


DATE = DateParam()


def now() -> datetime:
    """Return the current instant (UTC)."""
    return utcnow()
