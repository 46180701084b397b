"""CLI commands (`flask --app app <command>`): each one transaction, Chinese+English errors.

Every command that depends on the date takes --today (Asia/Shanghai by default); bad input exits
non-zero with a one-line reason.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime
from pathlib import Path

import click
from flask.cli import with_appcontext
from flask import Flask, current_app
from flask.cli import AppGroup
from sqlalchemy.orm import Session

from registry import clock
from registry.db import set_read_only, utcnow
from registry.domain.actors import Actor, system_actor
from registry.domain.errors import DomainError, PolicyError
from registry.domain.policy import load_policies, unsourced_in


def today_in(tz: str) -> date:
    """Return today's date in the configured zone (Asia/Shanghai), never the server's."""
    return clock.today_in(tz)


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


def init_app(app: Flask) -> None:
    """Register every command."""
    from registry.cli_commands import register

    register(app)


@click.command("init-db")
@with_appcontext
def init_db() -> None:
    """Migrate the database to the latest schema (alembic upgrade head)."""
    from registry.migrate import upgrade

    from registry.reference import sync_regions

    upgrade(current_app.config["REGISTRY"].database_url)
    with unit_of_work() as session:
        changed = sync_regions(session)
    click.echo(f"数据库已迁移到最新版本，行政区划更新 {changed} 条 / database migrated, {changed} regions synced")


policies_group = AppGroup("policies", help="Policy files.")


@policies_group.command("check")
def policies_check() -> None:
    """Load and validate every policy file."""
    directory = Path(current_app.config["REGISTRY"].policy_dir)
    try:
        loaded = load_policies(directory)
    except PolicyError as exc:
        fail(f"政策文件有误 / bad policy file: {exc.message}")
    for policy in loaded.policies:
        tiers = ", ".join(t.code for t in policy.tiers)
        click.echo(f"{policy.code}  {policy.document_no}  {tiers}")
    missing = unsourced_in(directory)
    if missing:
        fail("以下规则既无出处也未标明 assumed / rules without a source: " + "; ".join(missing))
    click.echo(f"{len(loaded.policies)} 个政策文件有效 / policy files valid")


@policies_group.command("doc")
@click.option("--out", default=None, help="Where to write (default: docs/policies.md beside config/).")
@click.option("--check", is_flag=True, help="Exit 1 if the file differs from the policy files; write nothing.")
def policies_doc(out: str | None, check: bool) -> None:
    """Write docs/policies.md: every rule of the policy files, its value, source and whether assumed."""
    from registry.policydoc import render

    directory = Path(current_app.config["REGISTRY"].policy_dir)
    try:
        loaded = load_policies(directory)
    except PolicyError as exc:
        fail(f"政策文件有误 / bad policy file: {exc.message}")
    target = Path(out) if out else directory.resolve().parent.parent / "docs" / "policies.md"
    text = render(loaded)
    if check:
        current = target.read_text(encoding="utf-8") if target.exists() else ""
        if current != text:
            fail(f"{target} 与政策文件不一致，请运行 flask policies doc / out of date")
        click.echo(f"{target} 与政策文件一致 / up to date")
        return
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(text, encoding="utf-8")
    click.echo(f"已写入 {target} / written")


def now() -> datetime:
    """Return the current instant (UTC)."""
    return utcnow()
