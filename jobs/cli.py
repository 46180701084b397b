"""CLI of the jobs (SPEC §3): `scan [--today D] [--dry-run]`, `send-reminders [--limit N]`,
`send-channels [--limit N]`, `jobs run`."""

from __future__ import annotations

import logging
import sys

import click
from flask import current_app
from flask.cli import AppGroup, with_appcontext

from jobs import channels as channel_sender
from jobs.outbox import drain
from jobs.scan import ScanReport, scan_once
from registry.cli.base import DATE, fail, now, today_in
from registry.reminders.outbox import mail_domain

SHOWN = 20  #: lines listed per section of a scan report


def _section(title: str, lines: list[str]) -> None:
    click.echo(f"  {title}: {len(lines)}")
    for line in lines[:SHOWN]:
        click.echo(f"    {line}")
    if len(lines) > SHOWN:
        click.echo(f"    …另有 {len(lines) - SHOWN} 条 / {len(lines) - SHOWN} more")


def print_report(report: ScanReport, *, dry_run: bool) -> None:
    """Print what a scan did (or would do)."""
    head = "试运行，未写入任何数据 / dry run, nothing changed" if dry_run else "已完成 / done"
    click.echo(f"每日扫描 {report.today}（{head}）")
    _section("自动处理称号 / transitions", report.transitions)
    _section("丧失复核资格 / review eligibility lost", report.flags)
    _section("解除禁入 / bans lifted", report.bans_lifted)
    r = report.reminders
    click.echo(f"  提醒 / reminders: 新增 {r.armed}，作废 {r.retired + r.superseded}，发出 {r.queued}，邮件 {r.messages}"
               f" / armed {r.armed}, retired {r.retired + r.superseded}, queued {r.queued}, e-mails {r.messages}")
    for line in r.lines[:SHOWN] if dry_run else []:
        click.echo(f"    {line}")
    _section("警告 / warnings", report.warnings)


@click.command("scan")
@with_appcontext
@click.option("--today", type=DATE, default=None, help="the day to scan (default: today in Asia/Shanghai)")
@click.option("--dry-run", is_flag=True, help="print what would happen and change nothing")
def scan(today, dry_run: bool) -> None:  # noqa: ANN001
    """Run the daily scan once: transitions, flags, ban lifting, reminders."""
    settings = current_app.config["REGISTRY"]
    today = today or today_in(settings.timezone)
    try:
        outcome = scan_once(current_app.extensions["registry.sessionmaker"], policies=current_app.extensions[
            "registry.policies"], today=today, clock=now, domain=mail_domain(settings.mail_from), dry_run=dry_run)
    except Exception as exc:  # noqa: BLE001  one line for the operator; the ledger records it as failed
        fail(f"扫描失败 / scan failed: {exc.__class__.__name__}: {exc}")
    if outcome.skipped:
        click.echo(f"{today} 的扫描已经完成，未重复执行 / the scan for {today} has already run")
        return
    if outcome.already_done:
        click.echo(f"注意：{today} 的扫描已经完成，正式运行将不再执行 / note: {today} is already done")
    print_report(outcome.report, dry_run=dry_run)


@click.command("send-reminders")
@with_appcontext
@click.option("--limit", type=click.IntRange(min=1), default=None, help="send at most N messages")
def send_reminders(limit: int | None) -> None:
    """Drain the e-mail outbox once."""
    settings = current_app.config["REGISTRY"]
    report = drain(current_app.extensions["registry.sessionmaker"], settings, clock=now,
                   today=today_in(settings.timezone), limit=limit)
    click.echo(str(report))
    if report.unreachable:
        fail(f"邮件服务器 {settings.smtp_host}:{settings.smtp_port} 无法连接，邮件已保留待重试 / "
             f"SMTP relay unreachable, messages kept for retry: {report.errors[-1]}")


@click.command("send-channels")
@with_appcontext
@click.option("--limit", type=click.IntRange(min=1), default=None, help="send at most N messages")
def send_channels(limit: int | None) -> None:
    """Deliver the due DingTalk, WeCom and 浙政钉 messages once (each channel's rate limit holds)."""
    settings = current_app.config["REGISTRY"]
    report = channel_sender.drain(current_app.extensions["registry.sessionmaker"], settings.channels, clock=now,
                                  today=today_in(settings.timezone), limit=limit)
    click.echo(str(report))


jobs_group = AppGroup("jobs", help="定时任务进程 / the scheduler process.")


@jobs_group.command("run")
def jobs_run() -> None:
    """Run the scheduler (blocking): daily scan, outbox sender, weekly digest, watchdog."""
    from jobs.runner import run
    from jobs.tasks import JobContext

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    ctx = JobContext(settings=current_app.config["REGISTRY"], sessions=current_app.extensions["registry.sessionmaker"],
                     policies=current_app.extensions["registry.policies"])
    sys.exit(run(ctx))


COMMANDS = (scan, send_reminders, send_channels, jobs_group)
