"""What a person reads instead of a code: one place for the names the pages show (issue 18).

Every page shows policies by name and 文号, actors and users by name, reasons, statuses and change
kinds by their Chinese names, amounts in 元 with thousands separators (万元 where the page is about
scale). The codes stay in the database, the API and the exports; only the pages translate. The
filters are registered once on the app (``init_app``); page modules call the functions directly.
An unknown code falls back to a neutral Chinese phrase, never to the code itself.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from flask import Flask, current_app, g

from registry.accounts.models import User
from registry.channels import ledger as channel_ledger
from registry.channels.models import CHANNEL_NAMES
from registry.domain.holders import HOLDER_NAMES
from registry.domain.lifecycle import STATUS_NAMES
from registry.domain.text import plain_source
from registry.enterprises.models import SIZE_NAMES, ChangeKind
from registry.pipeline.models import ApplicationStatus, BatchStatus, ObjectionStatus, SubmitterIdentity
from registry.platform.extensions import get_session, policies
from registry.platform.value_names import LEVEL_NAMES, VALUE_NAMES
from registry.reminders import digests, outbox
from registry.reminders.duedates import CHANGE_KIND_NAMES
from registry.runs import ledger as jobruns
from registry.titles.flags import CAUSE_NAMES

#: the scheduled jobs by name (the dashboard's health table, the trail's "定时任务" actors)
JOB_NAMES = {jobruns.SCAN: "每日扫描", outbox.SENDER: "发送提醒邮件", digests.DIGEST: "每周汇总邮件",
             digests.WATCHDOG: "运行监控", "import": "后台导入", channel_ledger.SENDER: "发送钉钉、企业微信、浙政钉消息"}

#: CLI commands whose actions reach the trail
COMMAND_NAMES = {"seed-demo": "生成演示数据", "import": "命令行导入", "create-user": "创建用户",
                 "create-token": "创建 API 令牌", "scan": "每日扫描", "grant": "授予称号", "revoke": "撤销称号",
                 "run-jobs": "定时任务", "holidays": "维护节假日", "roster": "名录维护"}

BATCH_STATUS_NAMES = {BatchStatus.OPEN: "受理推荐中", BatchStatus.PUBLICITY: "公示中", BatchStatus.FINALISED: "已办结"}
APPLICATION_STATUS_NAMES = {ApplicationStatus.IN_REVIEW: "推荐中", ApplicationStatus.RETURNED: "已退回补正",
                            ApplicationStatus.REJECTED: "不予推荐", ApplicationStatus.RECOMMENDED: "已获推荐",
                            ApplicationStatus.GRANTED: "已认定", ApplicationStatus.NOT_GRANTED: "未认定"}
OBJECTION_STATUS_NAMES = {ObjectionStatus.OPEN: "待处理", ObjectionStatus.UPHELD: "异议成立",
                          ObjectionStatus.REJECTED: "异议不成立", ObjectionStatus.NOT_ACCEPTED: "匿名，不予受理",
                          ObjectionStatus.WITHDRAWN: "已撤回"}
IDENTITY_NAMES = {SubmitterIdentity.REAL_NAME: "实名", SubmitterIdentity.SEAL: "单位盖章",
                  SubmitterIdentity.ANONYMOUS: "匿名"}
ACTOR_KIND_NAMES = {"user": "用户", "token": "API 令牌", "cli": "命令行", "job": "定时任务", "anonymous": "未登录者"}

#: the status names of each kind of record the trail shows
STATUS_BY_ENTITY: dict[str, dict[str, str]] = {
    "batch": {k.value: v for k, v in BATCH_STATUS_NAMES.items()},
    "application": {k.value: v for k, v in APPLICATION_STATUS_NAMES.items()},
    "objection": {k.value: v for k, v in OBJECTION_STATUS_NAMES.items()},
}
CERT_STATUS_NAMES = {k.value: v for k, v in STATUS_NAMES.items()}

#: keys of JSON values the trail stores (import counts, batch deadlines, pool tallies)
KEY_NAMES = {"new_enterprises": "新增企业", "changed": "字段变更", "new_titles": "新增称号", "new_reports": "新增年报",
             "updated_enterprises": "更新企业", "unchanged": "未变", "rows": "行数", "errors": "错误",
             "warnings": "提示", "candidates": "候选", "members": "成员", "evaluated": "核查", "enterprises": "企业",
             "error_rows": "出错行数", "unchanged_rows": "未变化的行", "missing": "名单中缺少的企业",
             "name_matches": "名称相同但信用代码不同", **LEVEL_NAMES}

#: fields holding an amount in 元
MONEY_FIELDS = {"revenue", "main_business_revenue", "main_product_revenue", "rd_expense", "net_profit", "total_assets", "total_liabilities"}
#: fields holding a user's id
USER_FIELDS = {"officer_id", "user_id", "created_by", "decided_by", "handled_by"}


#: GB/T 4754-2017 门类 (sections) and the divisions officers meet most (manufacturing, IT, R&D)
INDUSTRY_SECTIONS = {
    "A": "农、林、牧、渔业", "B": "采矿业", "C": "制造业", "D": "电力、热力、燃气及水生产和供应业", "E": "建筑业",
    "F": "批发和零售业", "G": "交通运输、仓储和邮政业", "H": "住宿和餐饮业", "I": "信息传输、软件和信息技术服务业",
    "J": "金融业", "K": "房地产业", "L": "租赁和商务服务业", "M": "科学研究和技术服务业",
    "N": "水利、环境和公共设施管理业", "O": "居民服务、修理和其他服务业", "P": "教育", "Q": "卫生和社会工作",
    "R": "文化、体育和娱乐业", "S": "公共管理、社会保障和社会组织", "T": "国际组织"}
INDUSTRY_DIVISIONS = {
    "C13": "农副食品加工业", "C14": "食品制造业", "C15": "酒、饮料和精制茶制造业", "C16": "烟草制品业", "C17": "纺织业",
    "C18": "纺织服装、服饰业", "C19": "皮革、毛皮、羽毛及其制品和制鞋业", "C20": "木材加工和木、竹、藤、棕、草制品业",
    "C21": "家具制造业", "C22": "造纸和纸制品业", "C23": "印刷和记录媒介复制业", "C24": "文教、工美、体育和娱乐用品制造业",
    "C25": "石油、煤炭及其他燃料加工业", "C26": "化学原料和化学制品制造业", "C27": "医药制造业", "C28": "化学纤维制造业",
    "C29": "橡胶和塑料制品业", "C30": "非金属矿物制品业", "C31": "黑色金属冶炼和压延加工业",
    "C32": "有色金属冶炼和压延加工业", "C33": "金属制品业", "C34": "通用设备制造业", "C35": "专用设备制造业",
    "C36": "汽车制造业", "C37": "铁路、船舶、航空航天和其他运输设备制造业", "C38": "电气机械和器材制造业",
    "C39": "计算机、通信和其他电子设备制造业", "C40": "仪器仪表制造业", "C41": "其他制造业", "C42": "废弃资源综合利用业",
    "C43": "金属制品、机械和设备修理业", "I63": "电信、广播电视和卫星传输服务", "I64": "互联网和相关服务",
    "I65": "软件和信息技术服务业", "M73": "研究和试验发展", "M74": "专业技术服务业", "M75": "科技推广和应用服务业"}


def industry_name(code: str | None) -> str:
    """Return an industry code (GB/T 4754-2017) as its name with the code: 化学纤维制造业（C28）."""
    if not code:
        return "—"
    code = code.strip().upper()
    name = INDUSTRY_DIVISIONS.get(code[:3]) or INDUSTRY_SECTIONS.get(code[:1])
    return f"{name}（{code}）" if name else code


def policy_name(code: str | None) -> str:
    """Return a policy's name with its 文号 (e.g. 优质中小企业梯度培育管理暂行办法（工信部企业〔2022〕63号）)."""
    if not code:
        return "—"
    policy = policies().by_code.get(code)
    if policy is None:
        return "未登记的政策文件"
    return f"{policy.name}（{policy.document_no}）" if policy.document_no else policy.name


def name_policies(text: str) -> str:
    """Replace every policy code in a sentence (the domain's consequence texts) by the policy's name and 文号."""
    out = str(text)
    for code in sorted(policies().by_code, key=len, reverse=True):
        if code in out:
            policy = policies().by_code[code]
            cited = f"《{policy.name}》{policy.document_no}".strip()
            out = out.replace(f"依 {code}", f"依{cited}").replace(code, cited)
    return out


def policy_document(code: str | None) -> str:
    """Return a policy's 文号 (its name when it has none): short enough for a choice list."""
    policy = policies().by_code.get(code or "")
    if policy is None:
        return "未登记的政策文件"
    return policy.document_no or policy.name


def programme_name(code: str | None) -> str:
    """Return a programme's name: the name of its latest policy."""
    found = [p for p in policies().policies if p.programme == code]
    return found[-1].name if found else "未登记的项目"


def channel_name(code: str | None) -> str:
    """Return a recommendation channel's name (e.g. central_enterprise → 中央企业推荐)."""
    return next((c.name for p in reversed(policies().policies) for t in p.tiers for c in t.channels if c.code == code),
                "未登记的推荐渠道")


def reason_name(code: str | None) -> str:
    """Return a reason's Chinese name (a flag's cause or any policy's revocation reason)."""
    if not code:
        return ""
    name = CAUSE_NAMES.get(code) or next((r.name for p in policies().policies for t in p.tiers
                                          if (r := t.reason(code)) is not None), None)
    return name or "其他原因"


def change_kind_name(code: str | None) -> str:
    """Return a change report kind's Chinese name."""
    if not code:
        return ""
    try:
        return CHANGE_KIND_NAMES.get(ChangeKind(code), "其他变化")
    except ValueError:
        return "其他变化"


def user_name(user_id: Any) -> str:
    """Return a user's name (姓名, else 用户名), looked up once per request."""
    if user_id in (None, ""):
        return ""
    try:
        key = int(user_id)
    except (TypeError, ValueError):
        return str(user_id)
    cache = g.setdefault("user_names", {})
    if key not in cache:
        row = get_session().execute(sa.select(User.display_name, User.username).where(User.id == key)).first()
        cache[key] = (row[0] or row[1]) if row else "已删除的用户"
    return cache[key]


def actor_name(kind: str, name: str) -> str:
    """Return who acted as a person reads it: a user's name, a job's or a command's Chinese name."""
    if kind == "job":
        return f"定时任务：{JOB_NAMES.get(name, '后台任务')}"
    if kind == "cli":
        command, _, account = name.partition("@")
        what = COMMAND_NAMES.get(command, "系统维护")
        return f"命令行：{what}" + (f"（服务器账户 {account}）" if account else "")
    if kind == "anonymous":
        return "未登录者"
    if kind == "user":
        return login_name(name)
    return f"{name}（{ACTOR_KIND_NAMES.get(kind, '用户')}）"


def login_name(username: str) -> str:
    """Name a user recorded by login as a person reads it: "姓名（登录名）", looked up once per request."""
    cache = g.setdefault("login_names", {})
    if username not in cache:
        shown = get_session().scalar(sa.select(User.display_name).where(User.username == username))
        cache[username] = f"{shown}（{username}）" if shown and shown != username else f"{username}（用户）"
    return cache[username]


def event_actor(text: str | None) -> str:
    """Name the actor recorded on a title event as "kind:name" (or a bare name)."""
    if not text:
        return "—"
    kind, sep, name = text.partition(":")
    if not sep or kind not in ACTOR_KIND_NAMES:
        return text
    return actor_name(kind, name)


def _decimal(value: Any) -> Decimal | None:
    if value is None or value == "":
        return None
    try:
        return Decimal(str(value))
    except (InvalidOperation, ValueError):
        return None


def money(amount: Any) -> str:
    """Show an amount in 元 with thousands separators and two decimals (— when unknown)."""
    value = _decimal(amount)
    if value is None:
        return "—"
    return f"{value:,.2f}"


def wan(amount: Any) -> str:
    """Show an amount in 万元 (two decimals, separators) where the page is about scale."""
    value = _decimal(amount)
    if value is None:
        return "—"
    return f"{value / 10000:,.2f} 万元"


def json_text(value: Any) -> str:
    """Show a list or mapping stored in the trail as short Chinese text (no braces or quotes)."""
    if isinstance(value, dict):
        return "；".join(f"{key_name(str(k))}：{json_text(v)}" for k, v in value.items()) or "（空）"
    if isinstance(value, list):
        return "、".join(json_text(v) for v in value) or "（空）"
    if isinstance(value, bool):
        return "是" if value else "否"
    return str(value)


#: a roster filter's criteria as an export's trail records them (registry/enterprises/queries.py RosterFilter)
FILTER_KEY_NAMES = {"q": "搜索", "region": "地区", "tier": "称号层级", "status": "称号状态",
                    "expiring_within_days": "到期天数以内", "as_of": "截至日期", "sort": "排序", "programme": "项目",
                    "holder": "称号持有者", "ids": "所选记录"}
SORT_NAMES = {"name": "按名称", "uscc": "按统一社会信用代码", "region": "按地区", "id": "按登记先后", "-id": "按登记先后（新在前）"}


def filter_text(value: dict[str, Any]) -> str:
    """A stored filter as short Chinese text: each criterion by its name, codes by theirs."""
    from registry.web.pages.helpers import tier_name  # noqa: PLC0415  (helpers imports the app's pages)

    named = {"region": plain_region, "tier": tier_name, "status": lambda c: CERT_STATUS_NAMES.get(c, c),
             "sort": lambda c: SORT_NAMES.get(c, c), "programme": programme_name,
             "holder": lambda c: HOLDER_NAMES.get(c, c)}
    parts = [f"{FILTER_KEY_NAMES.get(str(k), '其他')}：{named[k](str(v)) if k in named else json_text(v)}"
             for k, v in value.items()]
    return "；".join(parts) or "（空）"


def key_name(key: str) -> str:
    """Name a key of a stored mapping: a region code by its region, a known key by its name."""
    if key.isdigit():
        return plain_region(key)
    return KEY_NAMES.get(key, "其他")


def plain_region(code: str) -> str:
    from registry.web.pages.helpers import region_name  # noqa: PLC0415  (helpers imports the app's pages)

    return region_name(code)


#: why a session ended (registry/accounts/sessions.py), as the trail names it
SESSION_END_NAMES = {"logout": "主动退出", "replaced": "同一账号在其他地方登录", "idle": "长时间未操作",
                     "expired": "超过最长有效期", "revoked": "被管理员注销", "credentials": "密码或权限已变更",
                     "second_factor": "须使用双因素认证"}
#: why a login or a second factor was refused, why an account was locked (registry/accounts/auth.py, second_factor.py)
REFUSAL_NAMES = {"password": "密码错误", "unknown": "用户名不存在", "inactive": "账号已停用", "locked": "账号已锁定",
                 "ip_throttled": "该地址登录失败次数过多", "wrong": "验证码错误", "replayed": "验证码已用过",
                 "recovery": "恢复码错误", "2fa": "双因素认证多次失败"}


def instant_text(text: str) -> str | None:
    """Show an ISO instant stored in the trail ("2026-12-06T11:47:39.49+00:00") in 北京时间, else None."""
    try:
        at = datetime.fromisoformat(text)
    except ValueError:
        return None
    if at.tzinfo is None:
        return None
    return at.astimezone(ZoneInfo(current_app.config["REGISTRY"].timezone)).strftime("%Y-%m-%d %H:%M:%S")


def field_value(entity_type: str, field: str, raw: Any, shown: str) -> str:
    """Name a before/after value of the trail for a person; `shown` is the services' rendering."""
    if raw is None or raw == "":
        return ""
    if field == "filter" and isinstance(raw, dict) and set(raw) <= set(FILTER_KEY_NAMES):
        return filter_text(raw)
    if isinstance(raw, list | dict):
        return json_text(raw)
    text = str(raw)
    if entity_type == "user" and field == "reason":
        return SESSION_END_NAMES.get(text) or REFUSAL_NAMES.get(text, shown)
    if field.endswith("_at") and (instant := instant_text(text)):
        return instant
    if field == "policy_code":
        return policy_name(text)
    if field == "industry_code":
        return industry_name(text)
    if field in ("reason_code", "review_ineligible_cause", "cause"):
        return reason_name(text)
    if field == "kind" and entity_type == "change_report":
        return change_kind_name(text)
    if field in USER_FIELDS:
        return user_name(raw)
    if field in MONEY_FIELDS:
        return f"{money(raw)} 元"
    if field == "status":  # a batch's, an application's, an objection's (a title's is already in `shown`)
        return STATUS_BY_ENTITY.get(entity_type, {}).get(text, shown)
    if field == "submitter_identity":
        return next((v for k, v in IDENTITY_NAMES.items() if k.value == text), shown)
    if field == "kind" and entity_type == "channel_target":
        return CHANNEL_NAMES.get(text, shown)
    if (names := VALUE_NAMES.get(field)) is not None:  # the codes named alike everywhere (the roster export too)
        return names.get(text, shown)
    if field in ("changed_by", "resolved_by"):
        return event_actor(text)
    if field == "programme":
        return programme_name(text)
    if field == "channel":
        return channel_name(text)
    return shown


def source_text(text: str | None) -> str:
    """Return a policy source as a reader sees it: without the files' working marks such as "(public)"."""
    return plain_source(text)


def shown_value(field: str, value: Any) -> str:
    """Show a stored field's value (an import's old/new value): amounts in 元, sizes and regions by name."""
    if value is None or value == "":
        return "（空）"
    if field in MONEY_FIELDS:
        return f"{money(value)} 元"
    if field == "size_class":
        return next((n for k, n in SIZE_NAMES.items() if k.value == str(value)), str(value))
    if field == "region_code":
        return plain_region(str(value))
    if field == "industry_code":
        return industry_name(str(value))
    if field in USER_FIELDS:
        return user_name(value)
    return json_text(value) if isinstance(value, list | dict | bool) else str(value)


def init_app(app: Flask) -> None:
    """Register the filters and globals every template uses."""
    app.add_template_filter(money, "money")
    app.add_template_filter(wan, "wan")
    app.add_template_filter(policy_name, "policy_name")
    app.add_template_filter(reason_name, "reason_name")
    app.add_template_filter(user_name, "user_name")
    app.add_template_filter(event_actor, "event_actor")
    app.add_template_filter(json_text, "json_text")
    app.add_template_filter(source_text, "source_text")
    app.add_template_filter(name_policies, "name_policies")
    app.add_template_filter(industry_name, "industry_name")
    app.jinja_env.globals.update(shown_value=shown_value)
    app.jinja_env.globals.update(channel_name=channel_name)
    app.jinja_env.globals.update(policy_name=policy_name, user_name=user_name, job_name=lambda n: JOB_NAMES.get(n, "后台任务"))

