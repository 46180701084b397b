"""`flask --app app pi rekey`: re-encrypt stored personal data and secrets under the current key."""

from __future__ import annotations

import click
from flask.cli import AppGroup

from registry.cli.base import cli_actor, now, unit_of_work
from registry.privacy.rekey import rekey

pi_group = AppGroup("pi", help="Personal information at rest (SM4 keys).")


@pi_group.command("rekey")
def rekey_command() -> None:
    """Rewrite every value still under an old key id with REGISTRY_PI_KEY (then the old key may be retired)."""
    with unit_of_work() as session:
        done = rekey(session, actor=cli_actor("pi-rekey"), at=now())
    total = sum(done.values())
    for name, count in done.items():
        click.echo(f"{name}: {count}")
    click.echo(f"已用当前密钥重新加密 {total} 项 / {total} values re-encrypted under the current key")
