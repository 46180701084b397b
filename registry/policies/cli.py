"""`flask --app app policies …`: check the policy files, and write docs/policies.md from them."""

from __future__ import annotations

from pathlib import Path

import click
from flask import current_app
from flask.cli import AppGroup

from registry.cli.base import fail
from registry.domain.errors import PolicyError
from registry.domain.policy import load_policies, unsourced_in

policies_group = AppGroup("policies", help="Policy files.")


@policies_group.command("check")
def policies_check() -> None:
    """Load and validate every policy file."""
    directory = Path(current_app.config["REGISTRY"].policy_dir)
    try:
        loaded = load_policies(directory)
    except PolicyError as exc:
        fail(f"政策文件有误 / bad policy file: {exc.message}")
    from registry.policies.doc import policy_rows, rows

    for policy in loaded.policies:
        tiers = ", ".join(t.code for t in policy.tiers)
        click.echo(f"{policy.code}  {policy.document_no}  {tiers}")
        click.echo(f"  项目 {policy.programme}：{policy.name}")
        for row in policy_rows(policy):
            click.echo(_rule_line(row))
        for tier in policy.tiers:
            click.echo(f"  [{tier.code}] {tier.name}")
            for row in rows(policy, tier):
                click.echo(_rule_line(row))
    missing = unsourced_in(directory)
    if missing:
        fail("以下规则既无出处也未标明 assumed / rules without a source: " + "; ".join(missing))
    click.echo(f"{len(loaded.policies)} 个政策文件有效 / policy files valid")


def _rule_line(row) -> str:  # noqa: ANN001 — a registry.policies.doc.Row
    """One rule of `policies check`: the rule, its value, and its source (or `assumed` and why)."""
    where = f"assumed：{row.note}" if row.assumed else (row.source or "（缺出处）")
    return f"    - {row.rule} = {row.value} ← {where}"


@policies_group.command("doc")
@click.option("--out", default=None, help="Where to write (default: docs/policies.md beside config/).")
@click.option("--check", is_flag=True, help="Exit 1 if the file differs from the policy files; write nothing.")
def policies_doc(out: str | None, check: bool) -> None:
    """Write docs/policies.md: every rule of the policy files, its value, source and whether assumed."""
    from registry.policies.doc import render

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
