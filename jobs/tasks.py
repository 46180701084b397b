"""Job bodies: each one call into a service that owns its transactions; safe to run any number of times."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

from config import Settings
from jobs import channels as channel_sender
from jobs.digests import watchdog_once, weekly_digest_once
from jobs.imports import Executor
from jobs.outbox import drain
from jobs.scan import scan_once
from registry.domain.policy import PolicySet
from registry.platform.clock import today_in
from registry.platform.db import utcnow
from registry.reminders.outbox import mail_domain
from registry.roster.imports.queue import fail_stale_imports

log = logging.getLogger("jobs")


@dataclass(frozen=True)
class JobContext:
    """What every job needs: settings, a session factory and the loaded policies."""

    settings: Settings
    sessions: sessionmaker[Session]
    policies: PolicySet

    @property
    def domain(self) -> str:
        """The domain of Message-IDs (from the sender address)."""
        return mail_domain(self.settings.mail_from)

    def today(self) -> date:
        """Today in the configured zone (Asia/Shanghai), never the server's: the one clock's."""
        return today_in(self.settings.timezone)


def daily_scan(ctx: JobContext) -> None:
    """Scan today (claimed once in the run ledger; a rerun is a no-op)."""
    outcome = scan_once(ctx.sessions, policies=ctx.policies, today=ctx.today(), clock=utcnow, domain=ctx.domain)
    log.info("scan %s: %s", ctx.today(), "already done" if outcome.skipped else outcome.report.counts())


def send_outbox(ctx: JobContext) -> None:
    """Send the e-mails that are due."""
    report = drain(ctx.sessions, ctx.settings, clock=utcnow, today=ctx.today())
    log.info("outbox: %s", report)


def send_channels(ctx: JobContext) -> None:
    """Deliver the due DingTalk, WeCom and 浙政钉 messages within each target's rate limit."""
    report = channel_sender.drain(ctx.sessions, ctx.settings.channels, clock=utcnow, today=ctx.today())
    log.info("channels: %s", report)


def officer_digest(ctx: JobContext) -> None:
    """Queue the Monday summary for every officer (claimed once per day)."""
    queued = weekly_digest_once(ctx.sessions, policies=ctx.policies, today=ctx.today(), clock=utcnow, domain=ctx.domain)
    log.info("officer digest: %s", "already done" if queued is None else f"{queued} queued")


def catch_up_scan(ctx: JobContext) -> None:
    """Run today's scan unless it is done; a failure is logged (the watchdog reports it), not raised."""
    try:
        daily_scan(ctx)
    except Exception:  # noqa: BLE001  the caller must go on; the run ledger records the failure
        log.exception("scan failed")


def watchdog(ctx: JobContext) -> None:
    """Retry today's scan if it has not run, then alert the admins (once a day each) when it is 26 hours late
    or when mail has waited in the outbox longer than REGISTRY_OUTBOX_ALARM_MINUTES."""
    catch_up_scan(ctx)
    alerts = watchdog_once(ctx.sessions, today=ctx.today(), clock=utcnow, timezone=ctx.settings.timezone,
                           domain=ctx.domain, outbox_alarm_minutes=ctx.settings.outbox_alarm_minutes)
    log.log(logging.WARNING if alerts else logging.INFO, "watchdog: %d alerts queued", alerts)
    reap_imports(ctx)


def reap_imports(ctx: JobContext) -> None:
    """Fail imports whose worker stopped beating (REGISTRY_IMPORT_HEARTBEAT_MINUTES) or never claimed them."""
    stale_after = timedelta(minutes=ctx.settings.import_heartbeat_minutes)
    try:
        with ctx.sessions() as session, session.begin():
            failed = fail_stale_imports(session, at=utcnow(), stale_after=stale_after)
    except OperationalError as exc:  # SQLite: a live import holds the write lock (so it is not stale); next minute
        log.info("imports: reaper skipped, database busy: %s", str(exc).splitlines()[0])
        return
    if failed:
        log.warning("imports: %d interrupted imports marked failed", failed)


def import_executor(ctx: JobContext) -> Executor:
    """The process's one import executor (started by the runner)."""
    return Executor(ctx.sessions, ctx.policies, clock=utcnow, today=ctx.today,
                    heartbeat_minutes=ctx.settings.import_heartbeat_minutes, limits=ctx.settings.import_limits)
