"""The commands of SPEC §3 that need the database: users, tokens, demo data."""

from __future__ import annotations

import sys

import click
from flask import Flask, current_app
from flask.cli import with_appcontext

from jobs.cli import COMMANDS as JOB_COMMANDS
from registry.accounts import users
from registry.audit.cli import audit_group
from registry.cli import help_zh
from registry.cli.base import DATE, cli_actor, fail, now, unit_of_work
from registry.domain.actors import Role
from registry.policies.cli import policies_group
from registry.privacy.cli import pi_group
from registry.regions.cli import regions_group
from registry.roster.cli import export_roster_command, import_roster


@click.command("init-db")
@with_appcontext
def init_db() -> None:
    """Migrate the database to the latest schema (alembic upgrade head)."""
    from registry.platform.migrate import upgrade
    from registry.regions.reference import sync_regions

    upgrade(current_app.config["REGISTRY"].database_url)
    with unit_of_work() as session:
        changed = sync_regions(session)
    click.echo(f"数据库已迁移到最新版本，行政区划更新 {changed} 条 / database migrated, {changed} regions synced")


@click.command("create-user")
@with_appcontext
@click.argument("name")
@click.option("--role", required=True, type=click.Choice([r.value for r in Role]),
              help="officer, admin, leader, auditor, or one of the three administrator roles (sysadmin, secadmin, auditadmin)")
@click.option("--region", required=True, help="GB/T 2260 code of the user's region node")
@click.option("--email", required=True)
@click.option("--password-stdin", is_flag=True,
              help="read the password from the first line of standard input (scripts); otherwise it is asked for")
def create_user(name: str, role: str, region: str, email: str, password_stdin: bool) -> None:
    """Create a user. The password is asked for (hidden, twice) or read from stdin — never on the command line."""
    password = _password(password_stdin)
    settings = current_app.config["REGISTRY"]
    with unit_of_work() as session:
        users.create_user(session, actor=cli_actor("create-user"), username=name, role=role,
                          region_code=region, email=email, password=password, at=now(),
                          policy=users.password_policy(settings))
    click.echo(f"已创建用户 / created user {name} ({role}, {region})")


@click.command("reset-password")
@with_appcontext
@click.argument("name")
@click.option("--password-stdin", is_flag=True, help="read the new password from the first line of standard input")
def reset_password(name: str, password_stdin: bool) -> None:
    """Set user NAME's password (asked for, or from stdin): their sessions end, the next login must change it."""
    password = _password(password_stdin)
    settings = current_app.config["REGISTRY"]
    with unit_of_work() as session:
        users.reset_password(session, actor=cli_actor("reset-password"), username=name, new=password, at=now(),
                             policy=users.password_policy(settings))
    click.echo(f"已重置用户 {name} 的密码，其下次登录须修改密码 / password reset; a change is required at next login")


@click.command("reset-2fa")
@with_appcontext
@click.argument("name")
def reset_second_factor(name: str) -> None:
    """Remove user NAME's second factor (lost phone and recovery codes): sessions end, the next login enrols."""
    import sqlalchemy as sa

    from registry.accounts import second_factor
    from registry.accounts.models import User

    with unit_of_work() as session:
        user = session.scalar(sa.select(User).where(User.username == name))
        if user is None:
            fail(f"用户 {name} 不存在 / no such user")
        second_factor.reset(session, user=user, actor=cli_actor("reset-2fa"), at=now())
    click.echo(f"已重置用户 {name} 的双因素认证，其下次登录须重新绑定 / second factor reset; the next login enrols again")


def _password(from_stdin: bool) -> str:
    """Read a password from stdin's first line, or ask for it twice with the input hidden."""
    if from_stdin:
        line = sys.stdin.readline()
        password = line.rstrip("\r\n")
        if not password:
            fail("标准输入中没有密码 / no password on standard input")
        return password
    return click.prompt("密码 / password", hide_input=True, confirmation_prompt=True)


@click.command("create-token")
@with_appcontext
@click.argument("name")
@click.option("--label", default="cli", help="what the token is for")
@click.option("--scope", type=click.Choice(["read", "write"]), default="read", show_default=True,
              help="read: GET only; write: read and write")
def create_token(name: str, label: str, scope: str) -> None:
    """Print a new API token for user NAME (expires after REGISTRY_TOKEN_DAYS days)."""
    days = current_app.config["REGISTRY"].token_days
    with unit_of_work() as session:
        _, plain = users.create_token(session, actor=cli_actor("create-token"), username=name,
                                      name=label, scope=scope, days=days, at=now())
    click.echo(plain)


@click.command("seed-demo")
@with_appcontext
@click.option("--size", default=3000, show_default=True, type=click.IntRange(1, 1_000_000))
@click.option("--demo-password", "--admin-password", "demo_password", envvar="REGISTRY_DEMO_PASSWORD",
              default=None, help="the demo users' password (default: a random one, printed once)")
@click.option("--today", type=DATE, default=None, help="the demo's reference date")
@click.option("--if-empty", is_flag=True, help="do nothing when the roster already has enterprises")
def seed_demo(size: int, demo_password: str | None, today, if_empty: bool) -> None:  # noqa: ANN001
    """Load a realistic Zhejiang demo roster (idempotent: a second run changes nothing).

    The demo users get a random password, printed once when they are created, unless one is
    asked for with --demo-password or REGISTRY_DEMO_PASSWORD. A rerun never changes it.
    """
    from registry.cli.demo import random_password, seed

    if current_app.config["REGISTRY"].is_production:  # demo users with a published password, fake enterprises
        fail("生产环境（REGISTRY_ENV=production）不允许加载演示数据 / seed-demo refuses to run when "
             "REGISTRY_ENV=production")
    with unit_of_work() as session:
        report = seed(session, size=size, admin_password=demo_password or random_password(), today=today,
                      if_empty=if_empty)
    click.echo(report)


def register(app: Flask) -> None:
    """Add every command to the app's CLI."""
    for command in (init_db, policies_group, create_user, reset_password, reset_second_factor, create_token,
                    seed_demo, audit_group,
                    import_roster, export_roster_command, regions_group, pi_group):
        app.cli.add_command(command)
    for command in JOB_COMMANDS:  # scan, send-reminders, jobs run
        app.cli.add_command(command)
    for name, command in app.cli.commands.items():  # 中文帮助 (registry/cli/help_zh.py)
        help_zh.apply(command, name)
