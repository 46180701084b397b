"""`flask --app app audit …`: check the audit trail's hash chain."""

from __future__ import annotations

import re

import click
from flask.cli import AppGroup

from registry.audit import trail as audit
from registry.cli.base import fail, unit_of_work

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
    if not result.ok:
        where = f"事件 #{result.first_bad_id}" if result.first_bad_id is not None else "链头"
        fail(f"审计链在{where}处不完整：{result.problem} / audit chain broken at event "
             f"{result.first_bad_id} ({result.checked} events intact before it)")
    click.echo(f"审计链完整，已核验 {result.checked} 条事件 / audit chain intact: {result.checked} events checked")
    click.echo(f"链头 / head: {result.head_id or 0}:{result.head_hash}")
