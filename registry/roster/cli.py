"""CLI commands import-roster and export-roster (`flask --app app import-roster FILE`)."""

from __future__ import annotations

import sys
from datetime import date
from pathlib import Path
from typing import Any

import click
from flask import current_app
from flask.cli import with_appcontext

from registry.cli.base import DATE, cli_actor, fail, now, today_in, unit_of_work
from registry.domain.lifecycle import STATUS_NAMES, Status
from registry.domain.regions import CODE
from registry.enterprises.queries import RosterFilter
from registry.policies.rules import load_rules
from registry.privacy.unmask import record as unmask_record
from registry.roster.export import export_roster
from registry.roster.imports import run_import
from registry.roster.imports.guard import check_upload, refuse
from registry.roster.imports.lookups import Tiers
from registry.roster.imports.problems import FileProblem
from registry.roster.imports.values import CellError
from registry.roster.models import ImportRun
from registry.web.downloads import criteria

SHOWN = 20  #: entries of each list the CLI prints
LABELS = {"new_enterprises": "新增企业", "changed": "字段变更", "new_titles": "新增称号", "new_reports": "新增年报",
          "unchanged_rows": "未变化的行", "missing": "本批次已登记但名单中缺少的企业",
          "name_matches": "名称相同但信用代码不同（未合并）"}


class _Progress:
    """A click progress bar opened on the first report (when the row count is known)."""

    def __init__(self) -> None:
        self.bar: Any = None
        self.done = 0

    def __call__(self, done: int, total: int) -> None:
        if self.bar is None:
            self.bar = click.progressbar(length=total, label="逐行检查 / checking rows", file=sys.stderr)
            self.bar.__enter__()
        self.bar.update(done - self.done)
        self.done = done

    def close(self) -> None:
        """Finish the bar (if one was opened)."""
        if self.bar is not None:
            self.bar.__exit__(None, None, None)


@click.command("import-roster")
@with_appcontext
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--dry-run", is_flag=True, help="check and show the diff; write nothing")
@click.option("--programme", default=None, help="read tier names within this programme only (e.g. national)")
@click.option("--today", type=DATE, default=None, help="the date checks are made on (default: today, Asia/Shanghai)")
def import_roster(file: Path, dry_run: bool, programme: str | None, today: date | None) -> None:
    """Import a roster (.xlsx or .csv): every row is checked first; one bad row and nothing is imported."""
    today = today or today_in(current_app.config["REGISTRY"].timezone)
    limits = current_app.config["REGISTRY"].import_limits
    if (size := file.stat().st_size) > limits.upload_bytes:  # before reading it into memory
        fail(refuse("文件大小", f"{size / 2**20:,.1f} MB", f"{limits.upload_bytes / 2**20:,.0f} MB",
                    "file too large", "，请拆分文件").message)
    content = file.read_bytes()
    try:
        check_upload(file.name, content, limits)  # a hostile file is refused before anything is recorded
    except FileProblem as exc:
        fail(f"{file.name}：{exc.message}")
    progress = _Progress()
    with unit_of_work() as session:
        rules = load_rules(session, current_app.extensions["registry.policies"])
        try:
            run = run_import(session, actor=cli_actor("import-roster"), rules=rules, filename=file.name,
                             content=content, mode="dry_run" if dry_run else "apply", at=now(),
                             today=today, programme=programme, progress=progress,
                             limits=current_app.config["REGISTRY"].import_limits)
        finally:
            progress.close()
    counts = run.counts
    click.echo(f"文件 {file.name}：{counts.get('rows', 0)} 行，涉及企业 {counts.get('enterprises', 0)} 家"
               f" / {counts.get('rows', 0)} rows")
    for warning in run.diff.get("warnings", [])[:SHOWN]:
        click.echo(f"警告 / warning: {_where(warning)}：{warning['message']}")
    if run.status != "failed":
        _summary(run)
        return
    for error in run.errors:
        click.echo(f"错误 / error: {_where(error)}：{error['message']}", err=True)
    target = file.with_name(f"{file.stem}.errors.xlsx")
    target.write_bytes(run.error_workbook or b"")
    fail(f"{counts['errors']} 处错误（{counts['error_rows']} 行），未导入任何数据；错误清单已写入 {target}"
         f" / {counts['errors']} errors, nothing imported; error workbook: {target}")


def _summary(run: ImportRun) -> None:
    diff = run.diff
    for key, label in LABELS.items():
        click.echo(f"{label}：{diff['totals'][key]}")
        if key != "unchanged_rows":
            for entry in diff[key][:SHOWN]:
                click.echo("    " + _entry(entry))
    verb = "已导入 / applied" if run.status == "applied" else "试运行，未写入 / dry run, nothing written"
    click.echo(f"{verb}（导入记录 #{run.id}）")


def _where(entry: dict[str, Any]) -> str:
    parts = [f"第{entry['row']}行" if entry.get("row") else "文件"]
    return " ".join(parts + ([entry["column"]] if entry.get("column") else []))


def _entry(entry: dict[str, Any]) -> str:
    head = f"第{entry['row']}行 " if entry.get("row") else ""
    keys = [k for k in ("uscc", "name", "tier", "recognized_on", "batch", "year", "field", "old", "new",
                        "existing_uscc") if k in entry]
    return head + "  ".join(f"{k}={entry[k]}" for k in keys)


@click.command("export-roster")
@with_appcontext
@click.argument("file", type=click.Path(dir_okay=False, writable=True, path_type=Path))
@click.option("--region", default=None, help="GB/T 2260 code: that node and everything under it")
@click.option("--tier", default=None, help="tier code or Chinese name")
@click.option("--status", type=click.Choice([s.value for s in Status]), default=None)
@click.option("--expiring-within", "expiring_within", type=click.IntRange(0, 3650), default=None,
              help="only live titles whose validity ends within DAYS of --today")
@click.option("--q", default=None, help="name or USCC contains")
@click.option("--today", type=DATE, default=None, help="reference date for --expiring-within")
@click.option("--unmask", is_flag=True, help="contacts in full (default masked: 138****1234); recorded as pi.unmask")
def export_roster_command(file: Path, region: str | None, tier: str | None, status: str | None,
                          expiring_within: int | None, q: str | None, today: date | None, unmask: bool) -> None:
    """Export the roster (one row per title) to FILE: .xlsx, or .csv (UTF-8 with BOM); contacts masked unless --unmask."""
    today = today or today_in(current_app.config["REGISTRY"].timezone)
    policies = current_app.extensions["registry.policies"]
    if region is not None and not CODE.match(region):
        fail(f"地区代码应为6位数字，实为 {region!r} / --region must be a 6-digit code")
    try:
        tier = Tiers(policies).resolve(tier) if tier else None
    except CellError as exc:
        fail(str(exc))
    filters = RosterFilter(q=q, region=region, tier=tier, status=status, expiring_within_days=expiring_within,
                           sort="region")
    actor = cli_actor("export-roster")
    if unmask:
        with unit_of_work() as session:
            unmask_record(session, actor, purpose="命令行导出企业名录", at=now(),
                          detail={"filter": criteria(filters), "file": file.name})
    with unit_of_work(read_only=True) as session:
        names = load_rules(session, policies).tier_names()
        count = export_roster(session, actor=actor, names=names, f=filters, today=today, path=file, unmasked=unmask)
    shown = f"，状态 {STATUS_NAMES[Status(status)]}" if status else ""
    click.echo(f"已导出 {count} 行到 {file}{shown} / exported {count} rows")
