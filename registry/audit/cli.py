"""`flask --app app audit …`: check the audit trail's hash chain and its anchor; anchor it; archive old events."""

from __future__ import annotations

import re
from pathlib import Path

import click
from flask import current_app
from flask.cli import AppGroup

from registry.audit import archive as audit_archive
from registry.audit import trail as audit
from registry.audit.models import AuditChainHead
from registry.cli.base import DATE, cli_actor, fail, today_in, unit_of_work
from registry.platform.db import utcnow

audit_group = AppGroup("audit", help="The audit trail.")
ANCHOR = re.compile(r"^(\d+):([0-9a-f]{64})$")


def _anchors(values: tuple[str, ...]) -> dict[int, str]:
    anchors = {}
    for value in values:
        match = ANCHOR.match(value.strip().lower())
        if match is None:
            fail(f"锚点格式应为 事件编号:64位十六进制哈希 / --anchor must be ID:SHA256, got {value!r}")
        anchors[int(match.group(1))] = match.group(2)
    return anchors


@audit_group.command("verify")
@click.option("--anchor", "anchor_values", multiple=True, metavar="ID:HASH",
              help="an event id and the hash recorded for it earlier (outside the database)")
def audit_verify(anchor_values: tuple[str, ...]) -> None:
    """Recompute the hash chain: exit 0 if intact, 1 naming the first bad event."""
    anchors = _anchors(anchor_values)
    with unit_of_work(read_only=True) as session:  # a long check must not hold up writers
        result = audit.verify(session, anchors)
        config = audit.chain_config(session)
    if not result.ok:
        where = f"事件 #{result.first_bad_id}" if result.first_bad_id is not None else "链头"
        fail(f"审计链在{where}处不完整：{result.problem} / audit chain broken at event "
             f"{result.first_bad_id} ({result.checked} events intact before it)")
    click.echo(f"审计链完整，已核验 {result.checked} 条事件 / audit chain intact: {result.checked} events checked")
    if result.base_id:
        click.echo(f"自已归档的事件 #{result.base_id} 之后核验 / walked on from archived event {result.base_id}")
    click.echo(f"链头 / head: {result.head_id or 0}:{result.head_hash}")
    if result.anchored:
        click.echo("链头 HMAC-SM3 锚点相符 / head anchor (HMAC-SM3) verified")
    elif config.anchor_key is None:
        click.echo("未配置 REGISTRY_AUDIT_ANCHOR_KEY，链头锚点未核验 / anchor not checked: no key", err=True)
    click.echo(f"新事件的哈希算法 / new events hashed with: {config.algorithm}")


@audit_group.command("anchor")
def audit_anchor() -> None:
    """Anchor an unanchored chain head (after configuring REGISTRY_AUDIT_ANCHOR_KEY): verify the links,
    then append an `audit.anchored` event, which anchors the head."""
    with unit_of_work() as session:
        key = audit.chain_config(session).anchor_key
        if key is None:
            fail("未配置 REGISTRY_AUDIT_ANCHOR_KEY / REGISTRY_AUDIT_ANCHOR_KEY is not set")
        links = audit.verify(session, anchor_key=None)
        if not links.ok:
            fail(f"审计链不完整，不予锚定：{links.problem} / chain broken, not anchored")
        anchored = audit.verify(session, anchor_key=key)
        if anchored.anchored:
            click.echo("链头已锚定且相符 / already anchored")
            return
        if session.get(AuditChainHead, 1).anchor is not None:  # an anchor that does not fit is never replaced
            fail(f"链头已有锚点但与密钥不符，不予重新锚定：{anchored.problem} / anchor mismatch, refused")
        audit.record(session, actor=cli_actor("audit anchor"), action="audit.anchored", entity_type="audit_event",
                     entity_id=None, changes={"head": [None, f"{links.head_id or 0}:{links.head_hash}"]},
                     at=utcnow())
    click.echo("链头已用 HMAC-SM3 锚定 / chain head anchored")


@audit_group.command("archive")
@click.option("--before", type=DATE, required=True, help="archive events that happened before this day (Beijing)")
@click.option("--out", "out", type=click.Path(dir_okay=False, path_type=Path), required=True,
              help="the archive file to create (never overwritten)")
@click.option("--today", type=DATE, default=None, help="today's date (Asia/Shanghai by default)")
def audit_archive_command(before, out: Path, today) -> None:  # noqa: ANN001
    """Move events older than the retention period (≥ 180 days) to a file, after verifying the chain
    and its anchor and reading the file back; refuse otherwise (nothing is removed)."""
    settings = current_app.config["REGISTRY"]
    today = today or today_in(settings.timezone)
    with unit_of_work() as session:
        done = audit_archive.archive(session, before=before, out=out, today=today,
                                     retention_days=settings.audit_retention_days,
                                     actor=cli_actor("audit archive"), at=utcnow())
    click.echo(f"已归档事件 #{done.first_id}–#{done.last_id}（{done.count} 条）至 {done.path}，"
               f"文件 SHA-256 {done.file_sha256} / archived {done.count} events")


@audit_group.command("verify-archive")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def audit_verify_archive(path: Path) -> None:
    """Check an archive file: every hash and link, and its HMAC-SM3 anchor (with the configured key)."""
    with unit_of_work(read_only=True) as session:
        key = audit.chain_config(session).anchor_key
    try:
        header = audit_archive.verify_archive(path, key)
    except audit_archive.ArchiveRefused as exc:
        fail(exc.message)
    click.echo(f"归档文件完整：事件 #{header['first_id']}–#{header['last_id']}（{header['count']} 条）"
               + ("，锚点相符" if key else "，未配置密钥，锚点未核验") + " / archive intact")
