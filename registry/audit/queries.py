"""Read side of the audit trail: the filters of GET /api/v1/audit, the audit page and the export.

Scoping: auditors, officers and regional admins see the events of their region node; only a
nationwide actor (region 000000) sees everything, including events that carry no region (a user
created from the CLI). Dates given by a person are Beijing dates, turned into UTC bounds here.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.orm import Session

from registry.accounts.models import User
from registry.audit.models import AuditEvent
from registry.audit.trail import redacted
from registry.domain.actors import ROLE_NAMES, Action, Actor, can
from registry.domain.errors import PermissionDenied
from registry.domain.lifecycle import EVENT_NAMES, STATUS_NAMES
from registry.enterprises.fields import ANNUAL_REPORT, CHANGE_REPORT, ENTERPRISE
from registry.enterprises.queries import in_region, paginate
from registry.platform.catalogue import Catalogue
from registry.titles.fields import CERTIFICATION, CERTIFICATION_EVENT, REPORT_FILING

BEIJING = ZoneInfo("Asia/Shanghai")

#: the field catalogues (registry/platform/catalogue.py) by the entity type their records are audited as:
#: a field of these is named by its catalogue's label (with its unit), looked up when shown
CATALOGUES: dict[str, Catalogue] = {c.entity: c for c in (ENTERPRISE, ANNUAL_REPORT, CHANGE_REPORT, CERTIFICATION,
                                                           CERTIFICATION_EVENT, REPORT_FILING)}


def _titles(catalogue: Catalogue, *names: str) -> dict[str, str]:
    return {name: catalogue[name].title for name in names}


#: every field that appears in an event's `changes`, in Chinese, in the order an event shows them
#: (the catalogued ones when they appear on another kind of record, e.g. an import's)
FIELD_NAMES: dict[str, str] = {
    # enterprises
    **_titles(ENTERPRISE, "uscc", "name", "region_code", "industry_code", "size_class", "founded_on",
              "contact_name", "contact_email", "contact_phone", "officer_id", "holder_kind", "zone_type",
              "managing_body"),
    # annual reports
    **_titles(ANNUAL_REPORT, "year", "revenue", "main_business_revenue", "rd_expense", "employees", "rd_staff",
              "debt_ratio", "invention_patents", "audit_report_code", "audit_firm", "main_product",
              "main_product_revenue", "submitted_on"),
    # change reports
    **_titles(CHANGE_REPORT, "kind", "occurred_on", "reported_on"), "deadline_on": "报告截止日期",
    "deadline_provisional": "截止日期为暂定", **_titles(CHANGE_REPORT, "details"),
    # certifications and their terms and events (a 文号 of another record is just 文号)
    **_titles(CERTIFICATION, "tier"), "status": "状态", **_titles(CERTIFICATION, "recognized_on", "batch"),
    "document_no": "文号", **_titles(CERTIFICATION, "authority"), "valid_from": "有效期起", "valid_until": "有效期至", "policy_code": "政策依据",
    "ended_on": "终止日期", "review_eligible": "具备复核资格", "review_ineligible_cause": "丧失复核资格原因",
    "prerequisite_lost": "前置称号已丧失", "review_window_opens_on": "复核窗口开启日期", "seq": "期次",
    "decided_on": "决定日期", "effective_on": "生效日期", "action": "事件", "holder": "称号持有者",
    **_titles(CERTIFICATION, "product_name", "product_sales", "product_share"),
    # bans
    "reason_code": "原因代码", "incident_on": "事故（违法行为）发生日期", "reason": "原因", "starts_on": "禁止申报起始日", "ends_on": "禁止申报截止日", "blocks": "禁止范围",
    "lifted_on": "解除日期",
    # users and tokens
    "username": "用户名", "display_name": "姓名", "email": "邮箱", "role": "角色", "is_active": "启用",
    "password": "密码", "failed_login_count": "连续登录失败次数", "locked_until": "锁定至",
    "wants_daily_digest": "每日汇总邮件", "wants_reminder_email": "提醒也发邮件", "user": "用户", "revoked_at": "吊销时间",
    "must_change_password": "须修改密码", "sessions_ended": "结束的会话数",
    "scope": "权限范围", "expires_at": "到期时间", "ip": "IP 地址", "session_started_at": "会话开始时间",
    # second factor (issue 16 §3)
    "second_factor": "双因素认证方式", "totp_enabled_at": "绑定时间", "recovery_codes": "恢复码个数",
    "recovery_codes_left": "剩余恢复码", "second_factor_failures": "连续验证码错误次数", "enrolled": "已绑定",
    # audit archive and anchor (issue 16 §5, §7)
    "first_id": "起始事件编号", "last_id": "末尾事件编号", "before": "归档截止日期",
    "file": "归档文件", "file_sha256": "文件 SHA-256", "last_hash": "末尾事件哈希", "head": "链头",
    # holiday calendar, reminders, imports
    "day": "日期", "is_workday": "是否工作日", "note": "备注", "source_doc": "通知文号",
    "purpose": "查看用途", "fields": "显示的字段", "enterprises": "涉及企业", "count": "数量",
    "milestone": "提醒节点", "due_on": "应发日期", "filename": "文件名", "mode": "导入方式",
    # exports and downloads
    "format": "文件格式", "filter": "筛选条件", "row_count": "导出行数",
    # reminder e-mails (outbox)
    "attempts": "发送尝试次数", "next_attempt_at": "下次发送时间",
    # bulk statements recorded by the guard (registry.audit.guard)
    "statement": "SQL 语句", "parameters": "参数", "ids": "涉及记录编号", "rows": "影响行数",
    # imports
    "counts": "导入数量", "programme": "项目",
    # the pipeline: pools, batches, applications, opinions, objections
    "enterprise_id": "企业编号", "pool_id": "培育库编号", "batch_id": "申报批次编号", "application_id": "申报编号",
    "certification_id": "称号编号", "figures_year": "数据年度", "reference_on": "基准日", "evaluated": "核查企业数",
    "candidates": "候选企业数", "left_out": "未入库企业数", "added": "新增在库企业数", "dropped": "移出在库企业数",
    "included": "在库", "verdict": "预审结论", "changed_by": "办理人",
    "changed_at": "办理时间", "quotas": "名额", "deadlines": "各级截止日期", "publicity_starts_on": "公示开始日期",
    "publicity_ends_on": "公示截止日期", "published_where": "公示载体", "published_on": "发布日期",
    "finalised_at": "办结时间", "granted": "予以认定数", "not_granted": "未予认定数", "current_level": "当前审核层级",
    "level": "审核层级", "decision": "意见", "round": "轮次", "applied_on": "申报日期", "on": "日期",
    "channel": "推荐渠道", "channel_unit": "推荐单位", "outside_quota": "不占推荐单位名额",
    "outcome_note": "结果说明", "confidential": "提出人信息保密", "grounds": "异议理由", "received_on": "收到日期",
    "submitter": "提出人", "submitter_identity": "提出人身份", "resolution_note": "处理意见", "resolved_on": "处理日期",
    "resolved_by": "处理人",
    # proposals: account changes and four-eyes actions (issue 16 §4)
    "summary": "申请内容", "proposal_id": "申请编号", "proposed_by": "提出人", "confirmed_by": "确认人",
    "decided_by": "处理人",
}
#: where one key means different things on different records
ENTITY_FIELD_NAMES: dict[tuple[str, str], str] = {
    ("api_token", "name"): "令牌用途", ("user", "region_code"): "管辖地区", ("user", "email"): "邮箱",
    ("holiday_year", "year"): "年份", ("batch", "name"): "批次名称", ("pool_member", "reason"): "理由", ("pool", "year"): "评选年度",
    ("deadline_override", "region_code"): "地区", ("deadline_override", "year"): "年度",
    ("deadline_override", "due_on"): "截止日期", ("deadline_override", "document_no"): "文号",
    ("deadline_override", "note"): "说明", ("deadline_override", "kind"): "截止事项",
    ("name_list", "granted"): "授予称号数", ("name_list", "created"): "新建企业数", ("name_list", "skipped"): "跳过行数",
    ("name_list", "counts"): "匹配情况",
    ("saved_filter", "name"): "筛选名称", ("saved_filter", "query"): "筛选条件",
    ("channel_target", "kind"): "渠道类型", ("channel_target", "label"): "名称", ("channel_target", "address"): "地址",
    ("channel_target", "secret"): "加签密钥", ("channel_target", "include_subregions"): "含下级地区",
    ("channel_target", "is_active"): "启用", ("inbox_message", "read_at"): "已读时间",
    ("inbox_message", "count"): "标为已读的消息数",
}
ENTITY_NAMES: dict[str, str] = {
    "enterprise": "企业", "certification": "称号", "certification_term": "称号期次",
    "certification_event": "称号事件", "annual_report": "年度信息", "change_report": "重大变化报告",
    "ban": "禁止申报记录", "user": "用户", "api_token": "API 令牌", "holiday": "节假日调整",
    "holiday_year": "节假日年度", "import": "导入", "reminder": "提醒", "outbox_message": "提醒邮件",
    "audit_event": "审计日志", "pool": "培育库", "pool_member": "培育库成员", "batch": "申报批次", "application": "申报", "objection": "异议",
    "proposal": "待确认申请", "deadline_override": "截止日期调整", "name_list": "公告名单", "saved_filter": "保存的筛选",
    "channel_target": "提醒渠道", "inbox_message": "站内消息", "report_filing": "定期报告报送",
}
ACTION_NAMES: dict[str, str] = {
    "enterprise.created": "登记企业", "enterprise.updated": "修改企业信息",
    "annual_report.recorded": "填报年度信息", "annual_report.corrected": "更正年度信息",
    "change_report.recorded": "登记重大变化", "change_report.corrected": "更正重大变化",
    "change_report.withdrawn": "撤回误登记的重大变化", "certification.granted": "授予称号",
    "certification.review_eligibility_restored": "恢复复核资格",
    "certification.review_ineligible": "丧失复核资格", "certification.prerequisite_lost": "前置称号丧失",
    "ban.created": "禁止申报", "ban.lifted": "解除禁止申报", "import.applied": "导入名单", "job.scan_completed": "每日扫描完成", "user.created": "创建用户", "user.locked": "账户锁定",
    "token.created": "创建 API 令牌", "token.revoked": "吊销 API 令牌",
    "user.password_changed": "修改密码", "user.password_reset": "重置密码",
    "user.login": "登录", "user.login_failed": "登录失败", "user.logout": "退出登录", "session.ended": "会话结束",
    "user.disabled": "停用账号", "user.enabled": "启用账号", "user.unlocked": "解除锁定", "user.updated": "变更角色或地区",
    "account.proposed": "提出账号变更", "account.approved": "批准账号变更", "account.rejected": "驳回账号变更",
    "proposal.created": "提出待确认事项", "proposal.confirmed": "确认事项（第二人）", "proposal.rejected": "驳回待确认事项",
    "outbox.resent": "重发提醒邮件", "report_filing.recorded": "登记定期报告报送",
    "channel.added": "新增提醒渠道", "channel.changed": "修改提醒渠道", "channel.removed": "停用提醒渠道",
    "channel.email_off": "关闭邮件提醒", "channel.email_on": "开启邮件提醒",
    "inbox.read": "站内消息标为已读",
    "deadline_override.added": "登记截止日期调整", "deadline_override.removed": "删除截止日期调整",
    "name_list.uploaded": "上传公告名单（待核对）", "name_list.applied": "确认公告名单",
    "name_list.discarded": "放弃公告名单",
    "user.2fa_enrolled": "绑定双因素认证", "user.2fa_failed": "动态验证码错误", "user.2fa_recovery_used": "使用恢复码登录",
    "user.2fa_reset": "重置双因素认证", "user.2fa_recovery_renewed": "重新生成恢复码",
    "personal_data.unmasked": "查看个人信息明文",
    "audit.archived": "归档审计日志", "audit.anchored": "锚定审计链",
    "saved_filter.created": "保存筛选", "saved_filter.deleted": "删除保存的筛选",
    "export.roster": "导出企业名录", "export.audit": "导出审计日志", "export.pool": "导出培育库",
    "export.enterprise_record": "下载企业档案（PDF）", "export.publicity_list": "下载公示名单（PDF）",
    "export.results_list": "下载认定名单（PDF）",
    "download.import_errors": "下载导入错误清单", "security.policy_changed": "修改安全策略", "pi.unmask": "查看完整个人信息", "pi.rekeyed": "用新密钥重新加密个人信息",
    "pool.run": "运行资格预审", "pool.rerun": "重新核查培育库", "pool.member_added": "加入培育库", "pool.member_removed": "移出培育库",
    "batch.created": "创建申报批次", "batch.publicity": "开始公示", "batch.finalised": "办结批次",
    "application.created": "企业申报", "application.recommend": "推荐", "application.return": "退回补正",
    "application.reject": "不予推荐", "application.resubmitted": "补正后重新提交",
    "application.withdrawn": "撤回误登记的申请", "application.granted": "予以认定",
    "application.not_granted": "未予认定", "objection.filed": "登记异议", "objection.upheld": "异议成立",
    "objection.rejected": "异议不成立", "objection.not_accepted": "匿名异议不予受理",
    "objection.withdrawn": "撤回误登记的异议", "objection.corrected": "更正异议",
    **{f"certification.{event.value}": name for event, name in EVENT_NAMES.items()},
}
ACTOR_KINDS: dict[str, str] = {"user": "用户", "token": "API 令牌", "cli": "命令行", "job": "定时任务",
                               "anonymous": "未登录者"}
_FIELD_ORDER = {k: i for i, k in enumerate(FIELD_NAMES)}
_VALUE_NAMES: dict[str, dict[str, str]] = {
    "status": {**{s.value: n for s, n in STATUS_NAMES.items()},
               "reviewing": "待核对确认", "applied": "已导入", "discarded": "已放弃"},  # a name list's statuses
    "role": {r.value: n for r, n in ROLE_NAMES.items()},
    "scope": {"read": "只读", "write": "读写"},
}


@dataclass(frozen=True)
class AuditFilter:
    """What to look for in the trail; every criterion is optional."""

    entity_type: str | None = None
    entity_id: int | None = None
    enterprise_id: int | None = None
    actor: str | None = None  #: a substring of the actor's name or the user's 姓名 (or exact: name or kind:name)
    actor_exact: bool = False
    action: str | None = None  #: a prefix: "certification." matches every title event
    since: date | None = None  #: Beijing date, inclusive
    until: date | None = None  #: Beijing date, inclusive
    region: str | None = None  #: a region node: its events and those below it


#: the dates a filter may name: far enough for any trail, and the UTC bounds of their days never overflow
EARLIEST, LATEST = date(1900, 1, 1), date(2999, 12, 31)


def utc_bounds(since: date | None, until: date | None) -> tuple[datetime | None, datetime | None]:
    """Return [start, end) in UTC for the Beijing days `since`..`until` (both inclusive)."""
    start = datetime.combine(since, time(), BEIJING).astimezone(UTC) if since else None
    end = datetime.combine(until + timedelta(days=1), time(), BEIJING).astimezone(UTC) if until else None
    return start, end


#: the events a security administrator reads (issue 16 §4): logins, sessions, tokens, account changes
SECURITY_PREFIXES = ("user.", "session.", "token.", "account.")


def may_read(actor: Actor) -> bool:
    """Tell whether the actor reads the trail at all (the whole of it in their region, or its security events)."""
    return can(actor, Action.READ_AUDIT) or can(actor, Action.READ_SECURITY)


def in_scope(actor: Actor) -> sa.ColumnElement[bool]:
    """Events the actor may see: their region's, or all of them for a nationwide actor."""
    if actor.region_code == "000000":
        return sa.true()
    return sa.and_(AuditEvent.region_code.is_not(None), in_region(AuditEvent.region_code, actor.region_code))


def _actor_condition(f: AuditFilter) -> sa.ColumnElement[bool]:
    text = (f.actor or "").strip()
    if f.actor_exact:
        return sa.or_(AuditEvent.actor_name == text, AuditEvent.actor_kind + ":" + AuditEvent.actor_name == text)
    named = sa.select(User.id).where(User.display_name.icontains(text, autoescape=True))  # by a person's name too
    return sa.or_(AuditEvent.actor_name.icontains(text, autoescape=True), AuditEvent.actor_user_id.in_(named))


def conditions(actor: Actor, f: AuditFilter) -> list[sa.ColumnElement[bool]]:
    """The WHERE clauses for `f` as seen by `actor` (scope included). :raises PermissionDenied:"""
    where = [in_scope(actor)]
    if not can(actor, Action.READ_AUDIT):
        if not can(actor, Action.READ_SECURITY):
            raise PermissionDenied(f"{ROLE_NAMES[actor.role]}无权查看审计日志 / role {actor.role.value} may not read the audit trail")
        # a security administrator reads the security events only (logins, sessions, tokens, accounts)
        where.append(sa.or_(*(AuditEvent.action.startswith(p) for p in SECURITY_PREFIXES)))
    if f.entity_type:
        where.append(AuditEvent.entity_type == f.entity_type)
    if f.entity_id is not None:
        where.append(AuditEvent.entity_id == f.entity_id)
    if f.enterprise_id is not None:
        where.append(AuditEvent.enterprise_id == f.enterprise_id)
    if f.actor and f.actor.strip():
        where.append(_actor_condition(f))
    if f.action:
        where.append(AuditEvent.action.startswith(f.action, autoescape=True))
    start, end = utc_bounds(f.since, f.until)
    if start is not None:
        where.append(AuditEvent.occurred_at >= start)
    if end is not None:
        where.append(AuditEvent.occurred_at < end)
    if f.region:
        where.append(in_region(AuditEvent.region_code, f.region))
    return where


def audit_select(actor: Actor, f: AuditFilter) -> sa.Select[tuple[AuditEvent]]:
    """Select the events matching `f` that `actor` may see, newest first."""
    return sa.select(AuditEvent).where(*conditions(actor, f)).order_by(AuditEvent.id.desc())


def search(session: Session, actor: Actor, f: AuditFilter, page: int = 1,
           per_page: int = 50) -> tuple[list[AuditEvent], int]:
    """Return one page of matching events (newest first) and the total count."""
    return paginate(session, audit_select(actor, f), page, per_page)


def shown_changes(entity_type: str, changes: dict[str, Any]) -> dict[str, Any]:
    """An event's changes as every audit view shows them (pages, API, export, for every role): an
    enterprise's contact fields masked. Events written since issue 16 §6 store them masked already;
    older ones hold them in clear and cannot be rewritten (the chain), so they are masked here."""
    return redacted(entity_type, changes) if changes else changes


from registry.domain.security_policy import RULES as SECURITY_RULES  # noqa: E402


def field_name(entity_type: str, field: str) -> str:
    """Return the Chinese name of a changed field: its catalogue's label for a catalogued record (the key
    itself if unknown)."""
    special = ENTITY_FIELD_NAMES.get((entity_type, field))
    if special:
        return special
    if entity_type == "security_policy" and field in SECURITY_RULES:
        return SECURITY_RULES[field].label
    catalogue = CATALOGUES.get(entity_type)
    declared = catalogue.get(field) if catalogue is not None else None
    return declared.title if declared is not None else FIELD_NAMES.get(field, field)


def action_name(action: str) -> str:
    """Return the Chinese name of an action (the code itself if unknown)."""
    return ACTION_NAMES.get(action, action)


def entity_name(entity_type: str) -> str:
    """Return the Chinese name of an entity type (the code itself if unknown)."""
    return ENTITY_NAMES.get(entity_type, entity_type)


def actor_label(kind: str, name: str) -> str:
    """Return how a person reads the actor: name and, in brackets, how they acted."""
    return f"{name}（{ACTOR_KINDS.get(kind, kind)}）"


def display_value(field: str, value: Any) -> str:
    """Render a before/after value for a person: 是/否, status and role names, JSON for lists."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, list | dict):
        return json.dumps(value, ensure_ascii=False)
    return _VALUE_NAMES.get(field, {}).get(str(value), str(value))


@dataclass(frozen=True)
class FieldChange:
    """One changed field of an event, ready to show."""

    field: str
    label: str
    before: str
    after: str


def field_changes(entity_type: str, changes: dict[str, Any]) -> list[FieldChange]:
    """Return an event's changes as readable rows, in a stable order (contacts masked, see `shown_changes`)."""
    changes = shown_changes(entity_type, changes)
    rows = []
    for key in sorted(changes, key=lambda k: (_FIELD_ORDER.get(k, len(_FIELD_ORDER)), k)):
        value = changes[key]
        before, after = value if isinstance(value, list) and len(value) == 2 else (None, value)
        rows.append(FieldChange(key, field_name(entity_type, key), display_value(key, before),
                                display_value(key, after)))
    return rows

