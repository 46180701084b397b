"""`flask regions …`: the loaded region data's version, and moving enterprises off changed codes."""

from __future__ import annotations

import click
import sqlalchemy as sa
from flask.cli import AppGroup

from registry.cli.base import cli_actor, fail, now, unit_of_work

regions_group = AppGroup("regions", help="GB/T 2260 region data.")


@regions_group.command("version")
def regions_version() -> None:
    """Print the version and source of the region data the database holds."""
    from registry.regions.models import ReferenceData, Region

    with unit_of_work(read_only=True) as session:
        row = session.get(ReferenceData, "regions")
        counts = dict(session.execute(sa.select(Region.level, sa.func.count()).group_by(Region.level)).all())
    if row is None:
        fail("数据库中没有行政区划数据版本记录，请运行 init-db / no region data version, run init-db")
    click.echo(f"行政区划数据版本 / region data version: {row.version}  来源 / source: {row.source}")
    click.echo(f"省级 {counts.get('province', 0)}，地级 {counts.get('city', 0)}，县级 {counts.get('district', 0)}")


@regions_group.command("migrate-codes")
@click.option("--dry-run", is_flag=True, help="list the moves, write nothing")
@click.option("--old-code", default=None, help="only enterprises under this old code")
def migrate_codes_command(dry_run: bool, old_code: str | None) -> None:
    """Move enterprises registered under a changed region code (region_code_changes) to the code in force."""
    from registry.regions.services import migrate_codes

    with unit_of_work(read_only=dry_run) as session:
        moves, skipped = migrate_codes(session, actor=cli_actor("regions migrate-codes"), at=now(),
                                       dry_run=dry_run, old_code=old_code)
    verb = "将迁移" if dry_run else "已迁移"
    for m in moves:
        click.echo(f"{verb} 企业 {m.enterprise_id} {m.name}：{m.old_code} → {m.new_code} {m.new_name}"
                   f"（{m.year}年，{m.source}）")
    for code in skipped:
        click.echo(f"未迁移：代码 {code} 的去向不唯一或新代码未载入，请逐户修改 / {code}: no single loaded successor",
                   err=True)
    click.echo(f"{verb} {len(moves)} 家企业{'（试运行，未写入）' if dry_run else ''} / "
               f"{len(moves)} enterprises {'would be ' if dry_run else ''}moved")
