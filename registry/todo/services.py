"""What the signed-in officer must act on, in due order (issue 18 point 2).

Read live, not from the reminder ledger, so a change report registered a minute ago is listed at
once. Every query goes through the request's session, which is scoped to the actor's region: a city
officer sees the city and its districts. Items, most pressing first:

- deadlines already passed and not met (annual updates not filed, change reports not reported, a
  tier's periodic reports — 一企一策, 季度梳理, 年度评估 — not filed for their period);
- deadlines within the horizon (default 30 days): expiries, review windows, annual updates, change
  reports, publicity ends, and recommendation opinions due at the actor's own office;
- titles under review waiting for a conclusion; four-eyes proposals waiting for a second person;
  objections to resolve; e-mails that failed; dry-run imports and name lists (公告名单) of the actor
  waiting for confirmation.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from registry.channels.models import CHANNEL_NAMES
from registry.domain.actors import Action, Actor, can
from registry.domain.lifecycle import Status
from registry.enterprises.models import Enterprise
from registry.pipeline.models import Batch, Objection, ObjectionStatus
from registry.policies.rules import Rules
from registry.proposals.models import Proposal, ProposalStatus
from registry.reminders import kinds
from registry.reminders.duedates import TierCache, cn_date
from registry.reminders.kinds import due_between
from registry.reminders.models import OutboxMessage, OutboxStatus
from registry.roster.models import ImportRun, ImportStatus, NameList, NameListStatus
from registry.titles.models import Certification

HORIZON_DAYS = 30  #: deadlines this many days ahead are listed (assumed: a month's notice, no text gives it)
LOOKBACK_YEARS = 3  #: unmet change-report deadlines this far back are still listed
LIMIT = 500  #: at most this many items per group; the page says when a group was cut

#: the groups, in the order the page shows them
GROUPS = {
    "overdue": "已逾期",
    "soon": "即将到期",
    "review": "待作出复核结论",
    "proposal": "待第二人确认",
    "objection": "待处理异议",
    "mail": "发送失败的邮件",
    "import": "待确认的导入",
}
_KIND_GROUP_ORDER = {name: i for i, name in enumerate(GROUPS)}


@dataclass(frozen=True)
class TodoItem:
    """One thing to do: its group, what, the detail, when it is (was) due, and where to act."""

    group: str
    what: str
    detail: str
    due_on: date | None
    endpoint: str
    args: dict[str, Any] = field(default_factory=dict)

    @property
    def group_name(self) -> str:
        return GROUPS[self.group]


def _deadlines(session: Session, actor: Actor, rules: Rules, today: date, horizon: int) -> list[TodoItem]:
    tiers = TierCache(rules)
    items: list[TodoItem] = []
    annual = kinds.get("annual_update")
    for due in (annual.overdue(annual, session, tiers, today) if annual.overdue else ()):
        items.append(TodoItem("overdue", due.what, due.todo, due.reference_on, "pages.enterprise",
                              {"enterprise_id": due.enterprise_id}))
    for due in kinds.get("change_report").due(session, tiers, today.replace(year=today.year - LOOKBACK_YEARS, day=1),
                                              today - timedelta(days=1)):
        items.append(TodoItem("overdue", f"{due.what}（已逾期）", due.todo, due.reference_on, "pages.enterprise",
                              {"enterprise_id": due.enterprise_id}))
    for due in kinds.get("periodic_report").due(session, tiers, today.replace(year=today.year - LOOKBACK_YEARS, day=1),
                                                today - timedelta(days=1)):  # the earliest unfiled period
        items.append(TodoItem("overdue", f"{due.what}（已逾期）", due.todo, due.reference_on, "pages.enterprise",
                              {"enterprise_id": due.enterprise_id}))
    # the region explicitly: not every record a deadline comes from is scoped by the session (applications are not)
    for due in due_between(session, rules, today, today + timedelta(days=horizon), region=actor.region_code):
        if due.kind == "opinion_due":
            if due.office_code != actor.region_code:
                continue  # another office's opinion
            items.append(TodoItem("soon", due.what, due.todo, due.reference_on, "pages.application",
                                  {"application_id": due.subject_id}))
            continue
        if due.kind == "publicity_end":
            items.append(TodoItem("soon", due.what, due.todo, due.reference_on, "pages.application",
                                  {"application_id": due.subject_id}))
            continue
        items.append(TodoItem("soon", due.what, due.todo, due.reference_on, "pages.enterprise",
                              {"enterprise_id": due.enterprise_id}))
    return items


def _reviews(session: Session) -> list[TodoItem]:
    rows = session.execute(sa.select(Certification, Enterprise.name).join(
        Enterprise, Enterprise.id == Certification.enterprise_id).where(
        Certification.status == Status.UNDER_REVIEW).order_by(Certification.valid_until, Certification.id)
        .limit(LIMIT)).all()
    return [TodoItem("review", f"{name}：复核中，待作出复核结论",
                     f"有效期至 {cn_date(cert.valid_until)}；请在企业页面记录复核通过或不通过。",
                     cert.valid_until, "pages.enterprise", {"enterprise_id": cert.enterprise_id})
            for cert, name in rows]


def _proposals(session: Session, actor: Actor) -> list[TodoItem]:
    if not can(actor, Action.CONFIRM):
        return []
    rows = session.scalars(sa.select(Proposal).where(
        Proposal.status == ProposalStatus.PENDING, ~Proposal.kind.startswith("account."),
        sa.or_(Proposal.proposed_by_id.is_(None), Proposal.proposed_by_id != actor.user_id))
        .order_by(Proposal.proposed_at, Proposal.id).limit(LIMIT)).all()
    return [TodoItem("proposal", p.summary, "由他人提出，须由您或同地区另一位业务人员确认或驳回后生效。",
                     None, "pages.proposals") for p in rows]


def _objections(session: Session, actor: Actor) -> list[TodoItem]:
    """Open objections to the lists the actor's office published (only that office resolves them)."""
    rows = session.execute(sa.select(Objection, Batch).join(Batch, Batch.id == Objection.batch_id).where(
        Objection.status == ObjectionStatus.OPEN, Batch.region_code == actor.region_code)
        .order_by(Objection.received_on, Objection.id).limit(LIMIT)).all()
    return [TodoItem("objection", f"{batch.year}年{batch.name}：异议 #{o.id} 待处理",
                     f"{cn_date(o.received_on)} 收到；请核实后作出成立或不成立的处理。", o.received_on,
                     "pages.batch", {"batch_id": batch.id}) for o, batch in rows]


def _failed_mail(session: Session) -> list[TodoItem]:
    rows = session.execute(sa.select(OutboxMessage.channel, sa.func.count()).where(
        OutboxMessage.status == OutboxStatus.FAILED).group_by(OutboxMessage.channel)).all()
    counts = {str(getattr(channel, "value", channel)): n for channel, n in rows}
    if not counts:
        return []
    if set(counts) == {"email"}:
        return [TodoItem("mail", f"{counts['email']} 封提醒邮件发送失败", "请在提醒页面查看原因并重新发送。", None,
                         "pages.reminders", {"status": "failed"})]
    parts = "，".join(f"{CHANNEL_NAMES.get(c, c)} {n}" for c, n in sorted(counts.items()))
    return [TodoItem("mail", f"{sum(counts.values())} 条提醒发送失败（{parts}）",
                     "请在提醒页面查看原因，核对渠道设置后重新发送。", None, "pages.reminders", {"status": "failed"})]


def _imports(session: Session, actor: Actor) -> list[TodoItem]:
    if actor.user_id is None or not can(actor, Action.IMPORT):
        return []
    applied = sa.select(ImportRun.source_id).where(ImportRun.source_id.is_not(None))
    rows = session.scalars(sa.select(ImportRun).where(
        ImportRun.user_id == actor.user_id, ImportRun.status == ImportStatus.VALIDATED,
        ImportRun.mode == "dry_run", ImportRun.id.not_in(applied)).order_by(ImportRun.id.desc()).limit(LIMIT)).all()
    lists = session.scalars(sa.select(NameList).where(
        NameList.user_id == actor.user_id, NameList.status == NameListStatus.REVIEWING)
        .order_by(NameList.id.desc()).limit(LIMIT)).all()
    return [*(TodoItem("import", f"导入文件「{run.filename}」试运行通过，尚未确认导入",
                       "请查看将发生的变更，确认后才会写入。", None, "pages.import_run", {"import_id": run.id})
              for run in rows),
            *(TodoItem("import", f"公告名单「{listed.filename}」待逐行核对，尚未确认导入",
                       "请逐行确认对应的企业，确认后才会授予称号；不导入的名单可以放弃。", None, "pages.name_list",
                       {"list_id": listed.id}) for listed in lists)]


def todo_list(session: Session, actor: Actor, rules: Rules, today: date, horizon: int = HORIZON_DAYS) -> list[TodoItem]:
    """Everything `actor` must act on, grouped and in due order (undated items last in their group)."""
    if not can(actor, Action.WRITE):
        return []  # leaders, inspectors and the administrator roles act on none of these
    items = [*_deadlines(session, actor, rules, today, horizon), *_reviews(session), *_proposals(session, actor),
             *_objections(session, actor),
             *_failed_mail(session), *_imports(session, actor)]
    return sorted(items, key=lambda i: (_KIND_GROUP_ORDER[i.group], i.due_on or date.max, i.what))
