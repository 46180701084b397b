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
from registry.titles.fields import CERTIFICATION, CERTIFICATION_EVENT, REPORT_FILING

REGION = validate.Regexp(r"^\d{6}$", error="应为6位行政区划代码 / must be a 6-digit GB/T 2260 code")
DECIMAL_DOC = {"type": "string", "format": "decimal", "pattern": r"^\d{1,16}(\.\d{1,2})?$"}


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


class ReportFilingOut(Schema):
    """A filing of a periodic report a title's tier declares."""

    id = fields.Integer()
    certification_id = fields.Integer()
    report_code = fields.String()
    period = fields.String(metadata={"description": "2027（按年）、2027Q1（按季度）或 once（入选后一次）"})
    filed_on = fields.Date()
    note = fields.String(allow_none=True)


class DueReportOut(Schema):
    """A declared report of a title and its next due period."""

    report_code = fields.String()
    report_name = fields.String()
    period = fields.String()
    period_name = fields.String()
    due_on = fields.Date()
    overdue = fields.Boolean()


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


class TokenOut(Schema):
    """An API token as listed (never the token itself)."""

    id = fields.Integer()
    name = fields.String()
    username = fields.Function(lambda t: t.user.username)
    scope = fields.Function(lambda t: t.scope.value)
    created_at = fields.DateTime()
    expires_at = fields.DateTime()
    last_used_at = fields.DateTime(allow_none=True)
    revoked_at = fields.DateTime(allow_none=True)


class TokenCreatedOut(TokenOut):
    """The new token: `token` is shown this once."""

    token = fields.String()


class SessionOut(Schema):
    """An open browser session (the id is a hash of the cookie's secret, not usable as a cookie)."""

    id = fields.String()
    username = fields.Function(lambda s: s.user.username)
    created_at = fields.DateTime()
    last_seen_at = fields.DateTime()
    ip = fields.String(allow_none=True)
    user_agent = fields.String(allow_none=True)


# ------------------------------------------------------------------------------------ output

class TermOut(Schema):
    """One validity term."""

    seq = fields.Integer()
    valid_from = fields.Date()
    valid_until = fields.Date(allow_none=True)
    policy_code = fields.String()
    decided_on = fields.Date()
    document_no = fields.String(allow_none=True)


class EventOut(Schema):
    """One lifecycle event."""

    id = fields.Integer()
    action = fields.String()
    effective_on = fields.Date()
    from_status = fields.String(allow_none=True)
    to_status = fields.String()
    reason_code = fields.String(allow_none=True)
    incident_on = fields.Date(allow_none=True)
    document_no = fields.String(allow_none=True)
    note = fields.String(allow_none=True)
    actor = fields.String()
    created_at = fields.AwareDateTime()


class CertificationOut(Schema):
    """A title as GET /certifications/{id} returns it (terms and events only in detail)."""

    id = fields.Integer()
    enterprise_id = fields.Integer()
    region_code = fields.String()
    tier = fields.String()
    tier_name = fields.String()
    programme = fields.String()
    policy_code = fields.String()
    status = fields.String()
    recognized_on = fields.Date()
    batch = fields.String(allow_none=True)
    document_no = fields.String(allow_none=True)
    authority = fields.String(allow_none=True)
    valid_from = fields.Date()
    valid_until = fields.Date(allow_none=True)
    review_window_opens_on = fields.Date(allow_none=True)
    review_window_open = fields.Boolean()
    review_eligible = fields.Boolean()
    review_ineligible_cause = fields.String(allow_none=True)
    prerequisite_lost = fields.Boolean()
    ended_on = fields.Date(allow_none=True)
    holder = fields.String()
    product_name = fields.String(allow_none=True)
    product_sales = fields.Decimal(allow_none=True, as_string=True)
    product_share = fields.Decimal(allow_none=True, as_string=True)
    version = fields.Integer()
    terms = fields.List(fields.Nested(TermOut))
    events = fields.List(fields.Nested(EventOut))


class AnnualReportOut(Schema):
    """One year's figures."""

    id = fields.Integer()
    year = fields.Integer()
    revenue = fields.Decimal(places=2, as_string=True, allow_none=True, metadata=DECIMAL_DOC)
    main_business_revenue = fields.Decimal(places=2, as_string=True, allow_none=True, metadata=DECIMAL_DOC)
    rd_expense = fields.Decimal(places=2, as_string=True, allow_none=True, metadata=DECIMAL_DOC)
    employees = fields.Integer(allow_none=True)
    rd_staff = fields.Integer(allow_none=True)
    debt_ratio = fields.Decimal(places=2, as_string=True, allow_none=True, metadata=DECIMAL_DOC)
    invention_patents = fields.Integer(allow_none=True)
    audit_report_code = fields.String(allow_none=True)
    audit_firm = fields.String(allow_none=True)
    main_product = fields.String(allow_none=True)
    main_product_revenue = fields.Decimal(places=2, as_string=True, allow_none=True, metadata=DECIMAL_DOC)
    submitted_on = fields.Date()


class ChangeReportOut(Schema):
    """A major change report."""

    id = fields.Integer()
    kind = fields.String()
    occurred_on = fields.Date()
    reported_on = fields.Date(allow_none=True)
    deadline_on = fields.Date()
    deadline_provisional = fields.Boolean()
    details = fields.String()
    warnings = fields.List(fields.String(), metadata={"description": "提示（如已超过报告期限），仅在录入时返回"})


class EnterpriseOut(Schema):
    """An enterprise (with its titles and reports in detail)."""

    id = fields.Integer()
    uscc = fields.String()
    name = fields.String()
    region_code = fields.String()
    industry_code = fields.String(allow_none=True)
    size_class = fields.String(allow_none=True)
    founded_on = fields.Date(allow_none=True)
    contact_name = fields.String(allow_none=True)
    contact_email = fields.String(allow_none=True)
    contact_phone = fields.String(allow_none=True)
    officer_id = fields.Integer(allow_none=True)
    holder_kind = fields.String()
    zone_type = fields.String(allow_none=True)
    managing_body = fields.String(allow_none=True)
    version = fields.Integer()
    created_at = fields.AwareDateTime()
    updated_at = fields.AwareDateTime()
    warnings = fields.List(fields.String())
    certifications = fields.List(fields.Nested(CertificationOut(exclude=("terms", "events"))))
    annual_reports = fields.List(fields.Nested(AnnualReportOut))
    change_reports = fields.List(fields.Nested(ChangeReportOut))


class ReasonOut(Schema):
    """A revocation reason."""

    code = fields.String()
    name = fields.String()
    ban_years = fields.Integer()
    scope = fields.String()
    ban_blocks = fields.String()  #: tier | programme | ladder | all: what the ban bars


class TierOut(Schema):
    """A tier with its rules."""

    code = fields.String()
    name = fields.String()
    rank = fields.Integer()
    programme = fields.String()
    policy_code = fields.String()
    authority = fields.String()
    prerequisites = fields.List(fields.Dict())
    validity = fields.Dict()
    review_window_days = fields.Integer(allow_none=True)
    review_follows_expiry = fields.Boolean()
    post_expiry_review_days = fields.Integer(allow_none=True)
    missed_review = fields.String()
    annual_update_due = fields.String(allow_none=True)
    change_deadline = fields.String(allow_none=True)
    revocation_reasons = fields.List(fields.Nested(ReasonOut))
    list_kind = fields.String(allow_none=True, metadata={
        "description": "名单类型：yearly_selection（年度遴选名单）、pool（培育库）；称号为空"})
    channels = fields.List(fields.Dict(), metadata={
        "description": "推荐渠道：code、name、unit（推荐单位类别）、quota（每家每批上限，空为不限）、outside_quota（不占名额的情形）"})
    reports = fields.List(fields.Dict(), metadata={
        "description": "主管部门定期报告：every（once/year/quarter）、due（每年月-日）、days_after（季度末或入选后日数）"})


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

class UserOut(Schema):
    """An account as administrators see it (never its password hash)."""

    id = fields.Integer()
    username = fields.String()
    display_name = fields.String()
    email = fields.String()
    role = fields.Function(lambda u: u.role.value)
    region_code = fields.String()
    is_active = fields.Boolean()
    locked_until = fields.DateTime(allow_none=True)
    failed_login_count = fields.Integer()
    must_change_password = fields.Boolean()
    created_at = fields.DateTime()


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


class ProposalOut(Schema):
    """A change waiting for (or decided by) a second person; the payload is never shown (it may hold a hash)."""

    id = fields.Integer()
    kind = fields.String()
    status = fields.Function(lambda p: p.status.value)
    region_code = fields.String()
    target_type = fields.String()
    target_id = fields.Integer(allow_none=True)
    summary = fields.String()
    note = fields.String(allow_none=True)
    proposed_by = fields.String()
    proposed_at = fields.DateTime()
    decided_by = fields.String(allow_none=True)
    decided_at = fields.DateTime(allow_none=True)
    decision_note = fields.String(allow_none=True)
