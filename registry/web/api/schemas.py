"""marshmallow schemas: shape validation of API input, and the JSON shape of output.

Input schemas only check shape (types, lengths, choices); rules that need the database or the
policies (USCC check digit, region exists, prerequisites) live in the services.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import date
from typing import Any

from marshmallow import Schema, ValidationError, fields, validate

from registry.domain.lifecycle import Event, Status
from registry.enterprises.fields import ANNUAL_REPORT, CHANGE_REPORT, ENTERPRISE
from registry.platform.bounds import InSchema, page_field, per_page_field
from registry.platform.catalogue import Catalogue, Field
from registry.platform.outputs import DECIMAL_DOC, out_schema
from registry.titles.fields import CERTIFICATION, CERTIFICATION_EVENT, REPORT_FILING

REGION = validate.Regexp(r"^\d{6}$", error="应为6位行政区划代码 / must be a 6-digit GB/T 2260 code")


def _not_negative(value: object) -> None:
    if value is not None and value < 0:  # type: ignore[operator]
        raise ValidationError("不能为负数 / must not be negative")


def _percentage(low: object, high: object) -> Callable[[object], None]:
    def check(value: object) -> None:
        if value is not None and not low <= value <= high:  # type: ignore[operator]
            raise ValidationError(f"应在 {low} 到 {high} 之间（百分比）/ must be a percentage between {low} and {high}")
    return check


MONEY = {"places": 2, "as_string": True, "validate": _not_negative, "metadata": DECIMAL_DOC}


def _choices(values: list[str]) -> validate.OneOf:
    return validate.OneOf(values, error="应为以下之一 / must be one of: {choices}")


def api_field(field: Field, *, patch: bool = False, defaults: bool = True, description: str | None = None,
              **options: Any) -> fields.Field:
    """Return the input field of a catalogue field: its kind, bounds and choices; its label as the OpenAPI title.

    A required field is required (in a PATCH: may be left out, not null); an optional one may be null
    and defaults to null (`defaults=False` or a PATCH: a key left out stays out, e.g. a correction
    changes only what it names). `options` override marshmallow's keywords.
    """
    kw: dict[str, Any] = {}
    if field.required:
        kw["required"] = not patch
    else:
        kw["allow_none"] = True
        if defaults and not patch:
            kw["load_default"] = None
    doc = {"title": field.title}
    if description or field.hint:
        doc["description"] = description or field.hint
    kind, low = field.kind, 1 if field.required else None
    if kind == "money":
        made: fields.Field = fields.Decimal(**kw, **{**MONEY, "metadata": {**DECIMAL_DOC, **doc}}, **options)
        return made
    if kind == "percent":
        return fields.Decimal(places=2, as_string=True, metadata={**DECIMAL_DOC, **doc},
                              validate=_percentage(field.min_value, field.max_value), **{**kw, **options})
    kw.update(options)
    if kind in ("count", "year"):
        return fields.Integer(validate=validate.Range(field.min_value, field.max_value), metadata=doc, **kw)
    if kind == "user":
        return fields.Integer(metadata=doc, **kw)
    if kind == "date":
        return fields.Date(metadata=doc, **kw)
    if kind == "region":
        return fields.String(validate=REGION, metadata=doc, **kw)
    if kind == "choice":
        return fields.String(validate=_choices([code for code, _ in field.choices]), metadata=doc, **kw)
    length = validate.Length(low, field.max_length) if field.max_length else None
    if kind == "email":
        return fields.Email(validate=length, metadata=doc, **kw)
    return fields.String(validate=length, metadata=doc, **kw)


def catalogue_schema(name: str, catalogue: Catalogue, names: Iterable[str] | None = None, *, patch: bool = False,
                     defaults: bool = True, adapt: dict[str, dict[str, Any]] | None = None,
                     **extra: Any) -> type[InSchema]:
    """Build an input schema with a field for each catalogue field (`names`, else all), plus `extra`."""
    adapt = adapt or {}
    wanted = [catalogue[n] for n in names] if names is not None else list(catalogue)
    built = {f.name: api_field(f, patch=patch, defaults=defaults, **adapt.get(f.name, {})) for f in wanted}
    return InSchema.from_dict({**built, **extra}, name=name)


def enterprise_in() -> type[InSchema]:
    """POST /enterprises."""
    return catalogue_schema("EnterpriseIn", ENTERPRISE)


def enterprise_patch() -> type[InSchema]:
    """PATCH /enterprises/{id}: any field, plus the version read."""
    return catalogue_schema("EnterprisePatch", ENTERPRISE, patch=True, version=fields.Integer(required=True))


def annual_report_in() -> type[InSchema]:
    """POST /enterprises/{id}/annual-reports."""
    return catalogue_schema("AnnualReportIn", ANNUAL_REPORT, defaults=False)


def change_report_in() -> type[InSchema]:
    """POST /enterprises/{id}/change-reports."""
    return catalogue_schema("ChangeReportIn", CHANGE_REPORT, adapt={"details": {"load_default": "", "allow_none": False}})


EnterpriseIn = enterprise_in()
EnterprisePatch = enterprise_patch()
AnnualReportIn = annual_report_in()
ChangeReportIn = change_report_in()


class ChangeReportedIn(InSchema):
    """POST /change-reports/{id}/reported: the day a registered major change was reported."""

    reported_on = fields.Date(required=True)


def certification_in() -> type[InSchema]:
    """POST /enterprises/{id}/certifications."""
    return catalogue_schema("CertificationIn", CERTIFICATION)


def event_in() -> type[InSchema]:
    """POST /certifications/{id}/events."""
    return catalogue_schema(
        "EventIn", CERTIFICATION_EVENT,
        adapt={"incident_on": {"description": "撤销时：事故（违法行为）发生日期；'近N年未发生重大事故'自此日回溯"}},
        action=fields.String(required=True, validate=_choices([e.value for e in Event])),
        version=fields.Integer(load_default=None, allow_none=True))


CertificationIn = certification_in()
EventIn = event_in()


def report_filing_in() -> type[InSchema]:
    """POST /certifications/{id}/report-filings."""
    return catalogue_schema("ReportFilingIn", REPORT_FILING)


ReportFilingIn = report_filing_in()


ReportFilingOut = out_schema(
    "ReportFilingOut", "A filing of a periodic report a title's tier declares.",
    "id:int certification_id:int report_code period filed_on:date note?",
    period=fields.String(metadata={"description": "2027（按年）、2027Q1（按季度）或 once（入选后一次）"}))


DueReportOut = out_schema("DueReportOut", "A declared report of a title and its next due period.",
                          "report_code report_name period period_name due_on:date overdue:bool")


class ReportFilingsOut(Schema):
    """A title's declared reports with their next due period (none once ended), and its filings."""

    due = fields.List(fields.Nested(DueReportOut))
    filings = fields.List(fields.Nested(ReportFilingOut))


class ListArgs(InSchema):
    """Query string of GET /enterprises and GET /certifications."""

    q = fields.String(load_default=None, validate=validate.Length(max=200), metadata={
        "description": "按空格分词，每个词须出现在名称或统一社会信用代码的任意位置（全角字母数字按半角处理，% 与 _ 按字面）；"
                       "或联系人电话、邮箱完全一致（经盲索引）"})
    region = fields.String(load_default=None, validate=REGION)
    tier = fields.String(load_default=None, validate=validate.Length(max=32))
    programme = fields.String(load_default=None, validate=validate.Length(max=32), metadata={
        "description": "称号所属项目（如 national、zhejiang_key_little_giant、single_champion）"})
    status = fields.String(load_default=None, validate=_choices([s.value for s in Status]))
    expiring_within_days = fields.Integer(load_default=None, validate=validate.Range(0, 3660))
    as_of = fields.Date(load_default=None)
    sort = fields.String(load_default="name", validate=_choices(["name", "uscc", "region", "id", "-id"]))
    holder = fields.String(load_default=None, validate=_choices(["enterprise", "zone", "product"]), metadata={
        "description": "持有者类型：enterprise 企业、zone 园区（区域）、product 持有产品称号的企业（docs/holders.md）"})
    page = page_field()
    per_page = per_page_field()
    unmask = fields.Boolean(load_default=False, metadata={
        "description": "联系人、电话、邮箱完整显示（仅业务人员、业务管理员；每次记入审计 pi.unmask；其他角色 403）"})


class UnmaskArgs(InSchema):
    """Query string of GET /enterprises/{id}."""

    unmask = fields.Boolean(load_default=False, metadata={
        "description": "联系人、电话、邮箱完整显示（仅业务人员、业务管理员；每次记入审计 pi.unmask；其他角色 403）"})


class SessionIn(InSchema):
    """POST /session."""

    username = fields.String(required=True, validate=validate.Length(1, 64))
    password = fields.String(required=True, validate=validate.Length(1, 256), metadata={"raw": True})  # as typed
    #: the second factor: a 6-digit code from the authenticator app, or a recovery code
    code = fields.String(load_default=None, validate=validate.Length(1, 32))


class TokenIn(InSchema):
    """POST /tokens: read = GET only (403 on writes), write = read and write."""

    name = fields.String(load_default="api", validate=validate.Length(1, 64))
    scope = fields.String(load_default="read", validate=validate.OneOf(
        ["read", "write"], error="权限范围应为 read（只读）或 write（读写）"))


class OwnerArgs(Schema):
    """?user=NAME (admins: that user's, or * for all in their region) and ?all=1 (revoked and expired too)."""

    user = fields.String(load_default=None, validate=validate.Length(1, 64))
    all = fields.Boolean(load_default=False)


TokenOut = out_schema(
    "TokenOut", "An API token as listed (never the token itself).",
    "id:int name username scope created_at:datetime expires_at:datetime last_used_at:datetime? revoked_at:datetime?",
    username=fields.Function(lambda t: t.user.username), scope=fields.Function(lambda t: t.scope.value))


TokenCreatedOut = out_schema("TokenCreatedOut", "The new token: `token` is shown this once.", "token",
                             base=TokenOut)


SessionOut = out_schema(
    "SessionOut", "An open browser session (the id is a hash of the cookie's secret, not usable as a cookie).",
    "id username created_at:datetime last_seen_at:datetime ip? user_agent?",
    username=fields.Function(lambda s: s.user.username))


# ------------------------------------------------------------------------------------ output

TermOut = out_schema("TermOut", "One validity term.",
                     "seq:int valid_from:date valid_until:date? policy_code decided_on:date document_no?")


EventOut = out_schema("EventOut", "One lifecycle event.",
                      "id:int action effective_on:date from_status? to_status reason_code? incident_on:date? "
                      "document_no? note? actor created_at:time")


CertificationOut = out_schema(
    "CertificationOut", "A title as GET /certifications/{id} returns it (terms and events only in detail).",
    "id:int enterprise_id:int region_code tier tier_name programme policy_code status recognized_on:date batch? "
    "document_no? authority? valid_from:date valid_until:date? review_window_opens_on:date? review_window_open:bool "
    "review_eligible:bool review_ineligible_cause? prerequisite_lost:bool ended_on:date? holder product_name? "
    "product_sales:decimal? product_share:decimal? version:int terms events",
    terms=fields.List(fields.Nested(TermOut)), events=fields.List(fields.Nested(EventOut)))


AnnualReportOut = out_schema(
    "AnnualReportOut", "One year's figures.",
    "id:int year:int revenue:money? main_business_revenue:money? rd_expense:money? employees:int? rd_staff:int? "
    "debt_ratio:money? invention_patents:int? audit_report_code? audit_firm? main_product? "
    "main_product_revenue:money? submitted_on:date")


ChangeReportOut = out_schema(
    "ChangeReportOut", "A major change report.",
    "id:int kind occurred_on:date reported_on:date? deadline_on:date deadline_provisional:bool details warnings",
    warnings=fields.List(fields.String(), metadata={"description": "提示（如已超过报告期限），仅在录入时返回"}))


EnterpriseOut = out_schema(
    "EnterpriseOut", "An enterprise (with its titles and reports in detail).",
    "id:int uscc name region_code industry_code? size_class? founded_on:date? contact_name? contact_email? "
    "contact_phone? officer_id:int? holder_kind zone_type? managing_body? version:int created_at:time "
    "updated_at:time warnings:str[] certifications annual_reports change_reports",
    certifications=fields.List(fields.Nested(CertificationOut(exclude=("terms", "events")))),
    annual_reports=fields.List(fields.Nested(AnnualReportOut)),
    change_reports=fields.List(fields.Nested(ChangeReportOut)))


ReasonOut = out_schema(  # ban_blocks: tier | programme | ladder | all: what the ban bars
    "ReasonOut", "A revocation reason.", "code name ban_years:int scope ban_blocks")


TierOut = out_schema(
    "TierOut", "A tier with its rules.",
    "code name rank:int programme policy_code authority prerequisites validity:dict review_window_days:int? "
    "review_follows_expiry:bool post_expiry_review_days:int? missed_review annual_update_due? change_deadline? "
    "revocation_reasons list_kind channels reports",
    prerequisites=fields.List(fields.Dict()), revocation_reasons=fields.List(fields.Nested(ReasonOut)),
    list_kind=fields.String(allow_none=True, metadata={
        "description": "名单类型：yearly_selection（年度遴选名单）、pool（培育库）；称号为空"}),
    channels=fields.List(fields.Dict(), metadata={
        "description": "推荐渠道：code、name、unit（推荐单位类别）、quota（每家每批上限，空为不限）、outside_quota（不占名额的情形）"}),
    reports=fields.List(fields.Dict(), metadata={
        "description": "主管部门定期报告：every（once/year/quarter）、due（每年月-日）、days_after（季度末或入选后日数）"}))


class ErrorOut(Schema):
    """400, 401, 403, 404, 405, 409, 413, 429: a Chinese message, and for some refusals what it concerns."""

    error = fields.String(required=True)
    field = fields.String(metadata={"description": "所涉字段"})
    status = fields.String(metadata={"description": "所涉对象的当前状态"})
    current_version = fields.Integer(metadata={"description": "409 版本冲突：当前版本号，重新读取后再提交"})
    existing_id = fields.Integer(metadata={"description": "409 重复：已有记录的编号"})


class ValidationErrorOut(Schema):
    """422: field → messages (a nested field's messages nest the same way)."""

    errors = fields.Dict(required=True, keys=fields.String(), values=fields.Raw(),
                         metadata={"description": "字段 → 错误信息列表（嵌套字段为同样结构的对象）"})


def today_flag(cert: object, today: date) -> bool:
    """Tell whether the review window of a live title is open today."""
    opens = getattr(cert, "review_window_opens_on", None)
    return bool(opens and opens <= today and getattr(cert, "status", None) in ("active", "under_review"))


# ------------------------------------------------------------------------ accounts and proposals (issue 16 §4)

UserOut = out_schema(
    "UserOut", "An account as administrators see it (never its password hash).",
    "id:int username display_name email role region_code is_active:bool locked_until:datetime? "
    "failed_login_count:int must_change_password:bool created_at:datetime", role=fields.Function(lambda u: u.role.value))


class AccountIn(InSchema):
    """POST /users: propose a new account (the password travels in the body, never on a command line)."""

    username = fields.String(required=True, validate=validate.Length(1, 64))
    display_name = fields.String(load_default="", validate=validate.Length(max=64))
    email = fields.String(required=True, validate=validate.Length(1, 254))
    role = fields.Raw(required=True, metadata={"type": "string", "maxLength": 32, "description": "一个角色代码（SPEC §6）"})
    region_code = fields.String(required=True, validate=validate.Length(1, 6))
    password = fields.String(required=True, validate=validate.Length(1, 256))
    note = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=1000))


class AccountPatch(InSchema):
    """PATCH /users/{username}: propose a new role and/or region."""

    role = fields.Raw(load_default=None, allow_none=True, metadata={"type": "string", "maxLength": 32})
    region_code = fields.String(load_default=None, allow_none=True, validate=validate.Length(1, 6))
    note = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=1000))


class PasswordResetIn(InSchema):
    """POST /users/{username}/password-reset: the temporary password (the user changes it at next login)."""

    password = fields.String(required=True, validate=validate.Length(1, 256))
    note = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=1000))


class NoteIn(InSchema):
    """An optional note: why (a proposal of a simple account change, a decision)."""

    note = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=1000))


class BanLiftIn(InSchema):
    """POST /bans/{id}/lift: propose lifting a ban before it ends."""

    lifted_on = fields.Date(required=True)
    document_no = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=128))
    note = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=1000))


class UsccChangeIn(InSchema):
    """POST /enterprises/{id}/uscc: propose a new USCC."""

    uscc = fields.String(required=True, validate=validate.Length(1, 40))
    version = fields.Integer(load_default=None, allow_none=True)
    note = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=1000))


class ProposalArgs(InSchema):
    """?status=pending (default), confirmed, rejected or all."""

    status = fields.String(load_default="pending", validate=_choices(["pending", "confirmed", "rejected", "all"]))


ProposalOut = out_schema(
    "ProposalOut",
    "A change waiting for (or decided by) a second person; the payload is never shown (it may hold a hash).",
    "id:int kind status region_code target_type target_id:int? summary note? proposed_by proposed_at:datetime "
    "decided_by? decided_at:datetime? decision_note?", status=fields.Function(lambda p: p.status.value))
