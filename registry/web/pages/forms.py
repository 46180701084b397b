"""Page forms: Flask-WTF (CSRF token on every POST), labels bound to controls, Chinese messages.

Forms check shape only (required, a date, a number); the rules are the services'. Choices that
depend on the policy (tiers, revocation reasons) or on the actor's region are filled by the view.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from flask_wtf import FlaskForm
from wtforms import (
    DateField,
    DecimalField,
    HiddenField,
    IntegerField,
    PasswordField,
    SelectChoice,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.fields.core import UnboundField
from wtforms.meta import DefaultMeta
from wtforms.validators import (
    DataRequired,
    InputRequired,
    Length,
    NumberRange,
    Optional,
    Regexp,
    StopValidation,
    ValidationError,
)

from registry.domain.text import clean_text
from registry.enterprises.models import CHANGE_KIND_NAMES, SIZE_NAMES
from registry.platform.bounds import DEFAULT_TEXT, EARLIEST_DAY, INT_MAX, LATEST_DAY, MAX_AMOUNT

REQUIRED = "此项必填"


def choices(pairs: Iterable[tuple[str, str]]) -> list[SelectChoice]:
    """Return select options from (value, label) pairs."""
    return [SelectChoice(value, label) for value, label in pairs]


SORT_CHOICES = choices([("name", "按名称"), ("uscc", "按统一社会信用代码"), ("region", "按地区"),
                        ("-id", "最近登记在前")])


def _version() -> HiddenField:
    return HiddenField(validators=[InputRequired(), Length(max=10, message="版本号无效，请刷新页面"),
                                   Regexp(r"^\d+$", message="版本号无效，请刷新页面")])


def _finite(form: Any, field: Any) -> None:
    if field.data is not None and not field.data.is_finite():
        raise StopValidation("应为数字 / not a number")


def _in_days(form: Any, field: Any) -> None:
    if field.data is not None and not EARLIEST_DAY <= field.data <= LATEST_DAY:
        raise StopValidation(f"日期应在 {EARLIEST_DAY} 到 {LATEST_DAY} 之间")


def _clean(multiline: bool) -> Any:
    return lambda value: clean_text(value, multiline=multiline) if isinstance(value, str) else value


def bounded(unbound: UnboundField, options: dict[str, Any]) -> UnboundField:
    """Give a page field the bounds of registry/platform/bounds.py that it does not declare itself.

    Text is cleaned (clean_text) before validation, so a required field of zero-width characters
    is empty; integers stay within INTEGER, amounts within NUMERIC(18,2), dates within 1900–2100.
    """
    kind, kwargs = unbound.field_class, dict(unbound.kwargs)
    validators = list(kwargs.get("validators") or [])
    if issubclass(kind, StringField) and not issubclass(kind, HiddenField | PasswordField):
        kwargs["filters"] = [_clean(issubclass(kind, TextAreaField)), *kwargs.get("filters", ())]
        if not any(isinstance(v, Length) and v.max not in (None, -1) for v in validators):
            validators.append(Length(max=DEFAULT_TEXT))
    elif issubclass(kind, IntegerField):
        ranges = [v for v in validators if isinstance(v, NumberRange)]
        if not any(r.max is not None for r in ranges):
            validators.append(NumberRange(min=None if ranges else 0, max=INT_MAX))
    elif issubclass(kind, DecimalField):
        lead = next((i for i, v in enumerate(validators) if not isinstance(v, Optional | InputRequired)), len(validators))
        validators = [*validators[:lead], _finite, *validators[lead:], NumberRange(max=MAX_AMOUNT)]
    elif issubclass(kind, DateField):
        validators.append(_in_days)
    kwargs["validators"] = validators
    return UnboundField(kind, *unbound.args, name=unbound.name, **kwargs)


class PageForm(FlaskForm):
    """A form whose built-in messages are in Chinese (WTForms' own zh catalogue, no Babel) and whose
    fields are bounded and cleaned as the API's are (see `bounded`)."""

    class Meta:  # noqa: D106
        locales = ("zh",)

        def get_translations(self, form):  # noqa: ANN001, ANN201, D102
            return DefaultMeta.get_translations(self, form)

        def bind_field(self, form, unbound_field, options):  # noqa: ANN001, ANN201, D102
            return bounded(unbound_field, options).bind(form=form, **options)


def _optional_text(label: str, size: int) -> StringField:
    return StringField(label, validators=[Optional(), Length(max=size)], filters=[lambda v: v.strip() if v else v])


class RosterFilterForm(PageForm):
    """The roster's filters, read from the query string (GET: no CSRF needed)."""

    class Meta:  # noqa: D106
        csrf = False

    q = _optional_text("名称、统一社会信用代码或联系人电话、邮箱", 100)
    region = SelectField("地区", validators=[Optional()])
    tier = SelectField("称号层级", validators=[Optional()])
    status = SelectField("称号状态", validators=[Optional()])
    expiring_within_days = IntegerField("多少天内到期", validators=[Optional(), NumberRange(0, 3650)])
    as_of = DateField("截至日期（历史名单）", validators=[Optional()])
    sort = SelectField("排序", choices=SORT_CHOICES, default="name", validators=[Optional()])


class EnterpriseForm(PageForm):
    """The enterprise's editable fields plus the version it was read at."""

    version = _version()
    name = StringField("企业名称", validators=[DataRequired(REQUIRED), Length(max=200)])
    uscc = StringField("统一社会信用代码", validators=[DataRequired(REQUIRED), Length(max=30)])
    region_code = SelectField("所在地区", validators=[DataRequired(REQUIRED)])
    industry_code = _optional_text("行业代码（GB/T 4754）", 8)
    size_class = SelectField("企业规模", 
                             choices=choices([("", "未填写"), *[(k.value, v) for k, v in SIZE_NAMES.items()]]),
                             validators=[Optional()])
    founded_on = DateField("成立日期", validators=[Optional()])
    contact_name = _optional_text("联系人", 64)
    contact_email = StringField("联系人邮箱", validators=[Optional(), Length(max=254), Regexp(
        r"^[^@\s]+@[^@\s]+\.[^@\s]+$", message="邮箱地址格式不正确")])  # no email_validator dependency
    contact_phone = _optional_text("联系电话", 32)
    officer_id = SelectField("服务专员", validators=[Optional()], validate_choice=False)


class GrantForm(PageForm):
    """Grant a title (认定)."""

    tier = SelectField("称号层级", validators=[DataRequired(REQUIRED)])
    recognized_on = DateField("认定日期", validators=[InputRequired(REQUIRED)])
    batch = _optional_text("批次", 64)
    document_no = _optional_text("认定文号", 128)
    authority = _optional_text("认定机关", 128)


def _effective_on() -> DateField:
    return DateField("生效日期", validators=[InputRequired(REQUIRED)])


def _note() -> TextAreaField:
    return TextAreaField("备注", validators=[Optional(), Length(max=2000)])


class EventForm(PageForm):
    """A lifecycle event on a title, carrying the title's version (optimistic locking)."""

    version = _version()
    effective_on = _effective_on()
    document_no = _optional_text("依据文号", 128)
    note = _note()


class RevokeForm(EventForm):
    """A revocation: the reason (from the tier's policy) and the basis document are required."""

    # Redeclared below the reason so the form reads in the order an officer fills it in.
    reason_code = SelectField("撤销原因", validators=[DataRequired(REQUIRED)])
    effective_on = _effective_on()
    #: the look-backs ("近两年内未发生重大…事故") count from this day, not from the revocation
    incident_on = DateField("事故（违法行为）发生日期（因事故撤销时填写）", validators=[Optional()])
    document_no = StringField("撤销依据文号", validators=[DataRequired("撤销须填写依据文号"), Length(max=128)])
    note = _note()


class AnnualReportForm(PageForm):
    """One year's figures of the annual information update (amounts in yuan)."""

    year = IntegerField("数据年度", validators=[InputRequired(REQUIRED), NumberRange(2000, 2100)])
    submitted_on = DateField("填报日期", validators=[InputRequired(REQUIRED)])
    revenue = DecimalField("营业收入（元）", places=2, validators=[Optional(), NumberRange(min=0)])
    main_business_revenue = DecimalField("主营业务收入（元）", places=2, validators=[Optional(), NumberRange(min=0)])
    rd_expense = DecimalField("研发费用（元）", places=2, validators=[Optional(), NumberRange(min=0)])
    employees = IntegerField("从业人员（人）", validators=[Optional(), NumberRange(min=0)])
    rd_staff = IntegerField("研发人员（人）", validators=[Optional(), NumberRange(min=0)])
    debt_ratio = DecimalField("资产负债率（%）", places=2, validators=[Optional(), NumberRange(0, 1000)])
    invention_patents = IntegerField("发明专利（件）", validators=[Optional(), NumberRange(min=0)])
    audit_report_code = _optional_text("审计报告验证码", 64)
    audit_firm = _optional_text("会计师事务所", 200)
    main_product = _optional_text("主导产品名称", 200)
    main_product_revenue = DecimalField("主导产品销售收入（元）", places=2, validators=[Optional(), NumberRange(min=0)])

    #: the filed values the form was prefilled with (JSON), so a correction changes only what the officer changed
    basis = HiddenField()

    FIGURES = ("revenue", "main_business_revenue", "rd_expense", "employees", "rd_staff", "debt_ratio",
               "invention_patents", "audit_report_code", "audit_firm", "main_product", "main_product_revenue",
               "submitted_on")


class ChangeReportForm(PageForm):
    """A major change (重大变化) and when it was reported."""

    kind = SelectField("变化类型", choices=choices((k.value, v) for k, v in CHANGE_KIND_NAMES.items()),
                       validators=[DataRequired(REQUIRED)])
    occurred_on = DateField("发生日期", validators=[InputRequired(REQUIRED)])
    reported_on = DateField("报告日期（未报告则留空）", validators=[Optional()])
    details = TextAreaField("变化情况", validators=[Optional(), Length(max=4000)])

    def validate_reported_on(self, field: DateField) -> None:
        """A change cannot be reported before it happened."""
        if field.data and self.occurred_on.data and field.data < self.occurred_on.data:
            raise ValidationError("报告日期不能早于发生日期")
