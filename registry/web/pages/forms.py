"""Page forms: Flask-WTF (CSRF token on every POST), labels bound to controls, Chinese messages.

Forms check shape only (required, a date, a number); the rules are the services'. Choices that
depend on the policy (tiers, revocation reasons) or on the actor's region are filled by the view.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable
from decimal import Decimal
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
from wtforms.widgets import TextInput

from registry.domain.amounts import HINT, AmountError, parse_money, read_number
from registry.domain.text import clean_text
from registry.enterprises.fields import ANNUAL_REPORT, CHANGE_REPORT, ENTERPRISE
from registry.platform.bounds import DEFAULT_TEXT, EARLIEST_DAY, INT_MAX, LATEST_DAY, MAX_AMOUNT
from registry.platform.catalogue import Catalogue, Field
from registry.titles.fields import CERTIFICATION, CERTIFICATION_EVENT

REQUIRED = "此项必填"
EMAIL = r"^[^@\s]+@[^@\s]+\.[^@\s]+$"


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
        kind = DayField if kind is DateField else kind
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


class AmountField(DecimalField):
    """An amount in 元 as people type it: 1,234.5万, 1.2亿, ¥12,345.67, 12345元, full-width digits —
    read by the import's parser (registry/domain/amounts.py). A text box (inputmode decimal): a number
    box would refuse the units and separators before the form sees them."""

    widget = TextInput(input_type="text")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("render_kw", {"inputmode": "decimal", "autocomplete": "off"})
        super().__init__(*args, **kwargs)

    def process_formdata(self, valuelist: list[Any]) -> None:  # noqa: D102
        if not valuelist or not str(valuelist[0]).strip():
            self.data = None
            return
        try:
            self.data = self.read(str(valuelist[0]))
        except AmountError as e:
            self.data = None
            chinese, _, english = str(e).partition(" / ")
            raise ValueError(f"{chinese}（{self.hint}） / {english}") from None

    def pre_validate(self, form: Any) -> None:  # noqa: ARG002, D102
        if self.process_errors:  # unreadable: the reason is said once, not followed by range errors
            raise StopValidation()

    hint = HINT

    def read(self, written: str) -> Any:  # noqa: ANN401
        """The value of what was typed. :raises AmountError:"""
        return parse_money(written)


class PercentField(AmountField):
    """A percentage as typed: 45.5, 45.5%, full-width digits (the import's reading of 资产负债率)."""

    hint = "可写作 45.5 或 45.5%"

    def read(self, written: str) -> Any:  # noqa: ANN401, D102
        amount, _ = read_number(written, (("%", Decimal(1)),))
        return amount


#: how officers write a day; the first is how the form shows one
DAY_FORMATS = ["%Y-%m-%d", "%Y/%m/%d", "%Y.%m.%d", "%Y年%m月%d日"]
DAY_HINT = "如 2026-06-30"


class DayField(DateField):
    """A day typed as text, in Chinese order: 2026-06-30, 2026/6/30, 2026.6.30, 2026年6月30日, 20260630, full-width
    digits and spaces allowed. Every page date is one (`bounded` swaps a plain DateField for it): the
    browser's own date box shows the pattern of the browser's language — mm/dd/yyyy in an English
    Chromium, whatever the page's lang — and an officer cannot tell which order it wants."""

    widget = TextInput(input_type="text")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("format", DAY_FORMATS)
        kwargs["render_kw"] = {"placeholder": DAY_HINT, "autocomplete": "off", "maxlength": 20,
                               **(kwargs.get("render_kw") or {})}
        super().__init__(*args, **kwargs)

    def process_formdata(self, valuelist: list[Any]) -> None:  # noqa: D102
        if not valuelist:
            return
        written = "".join(unicodedata.normalize("NFKC", clean_text(str(valuelist[0]))).split())  # zero-width too
        if len(written) == 8 and written.isascii() and written.isdigit():  # 20260630; never 7 digits (2026116?)
            written = f"{written[:4]}-{written[4:6]}-{written[6:]}"
        try:
            super().process_formdata([written])
        except ValueError:
            raise ValueError("不是有效的日期值，请按“年-月-日”填写，如 2026-06-30") from None


def _optional_text(label: str, size: int) -> StringField:
    return StringField(label, validators=[Optional(), Length(max=size)], filters=[lambda v: v.strip() if v else v])


#: the roster's holder-kind filter (registry/enterprises/queries.py RosterFilter.holder, docs/holders.md)
HOLDER_CHOICES = choices([("", "全部"), ("enterprise", "企业"), ("zone", "园区（区域）"),
                          ("product", "产品（持有产品称号的企业）")])


class RosterFilterForm(PageForm):
    """The roster's filters, read from the query string (GET: no CSRF needed)."""

    class Meta:  # noqa: D106
        csrf = False

    q = _optional_text("名称、统一社会信用代码或联系人电话、邮箱", 100)
    region = SelectField("地区", validators=[Optional()])
    holder = SelectField("持有者类型", choices=HOLDER_CHOICES, validators=[Optional()])
    tier = SelectField("称号层级", validators=[Optional()])
    programme = SelectField("称号项目", validators=[Optional()])
    status = SelectField("称号状态", validators=[Optional()])
    expiring_within_days = IntegerField("多少天内到期", validators=[Optional(), NumberRange(0, 3650)])
    as_of = DateField("截至日期（历史名单）", validators=[Optional()])
    sort = SelectField("排序", choices=SORT_CHOICES, default="name", validators=[Optional()])


def form_field(field: Field, *, label: str | None = None, required: bool | str | None = None) -> UnboundField:
    """Return the page field of a catalogue field: its label, kind, bounds and choices.

    `label` and `required` (True, or the message to show) adapt a field to one form (a revocation
    requires its 依据文号); the bounds stay the catalogue's. Choices the view knows only at request
    time (regions, tiers, reasons, officers) are filled by the view.
    """
    text = label or field.form_label
    need = field.required if required is None else bool(required)
    message = required if isinstance(required, str) else REQUIRED
    kind = field.kind
    if kind == "date":
        return DateField(text, validators=[InputRequired(message) if need else Optional()])
    if kind in ("year", "count"):
        return IntegerField(text, validators=[InputRequired(message) if need else Optional(),
                                              NumberRange(field.min_value, field.max_value)])
    if kind in ("money", "percent"):
        low = 0 if kind == "money" and field.min_value is None else field.min_value
        typed = AmountField if kind == "money" else PercentField
        return typed(text, places=2, validators=[Optional(), NumberRange(low, field.max_value)])
    if kind in ("region", "tier", "pick", "user", "choice"):
        options = {}
        if kind == "choice":
            options["choices"] = choices(field.choices if need else (("", "未填写"), *field.choices))
        if kind == "user":
            options["validate_choice"] = False
        return SelectField(text, validators=[DataRequired(message) if need else Optional()], **options)
    length = [Length(max=field.max_length)] if field.max_length else []
    if kind == "long_text":
        return TextAreaField(text, validators=[DataRequired(message) if need else Optional(), *length])
    if need:
        return StringField(text, validators=[DataRequired(message), *length])
    if kind == "email":  # no email_validator dependency: a light shape check, as the import's
        return StringField(text, validators=[Optional(), *length, Regexp(EMAIL, message="邮箱地址格式不正确")])
    return StringField(text, validators=[Optional(), *length], filters=[lambda v: v.strip() if v else v])


def catalogue_form(name: str, catalogue: Catalogue, names: Iterable[str] | None = None, *,
                   base: type[PageForm] = PageForm, adapt: dict[str, dict[str, Any]] | None = None,
                   **extra: Any) -> type[PageForm]:
    """Build a form class with a field for each catalogue field (`names`, else all, in that order).

    `adapt` gives a field's `form_field` options in this form; `extra` adds fields declared before the
    catalogue's (the version read) and anything else the class needs.
    """
    adapt = adapt or {}
    wanted = [catalogue[n] for n in names] if names is not None else list(catalogue)
    built = {f.name: form_field(f, **adapt.get(f.name, {})) for f in wanted}
    return type(name, (base,), {**extra, **built, "__module__": __name__})


def enterprise_form() -> type[PageForm]:
    """The enterprise's editable fields plus the version it was read at."""
    return catalogue_form("EnterpriseForm", ENTERPRISE, version=_version(), __doc__=enterprise_form.__doc__)


def grant_form() -> type[PageForm]:
    """Grant a title (认定)."""
    return catalogue_form("GrantForm", CERTIFICATION, __doc__=grant_form.__doc__)


def event_form() -> type[PageForm]:
    """A lifecycle event on a title, carrying the title's version (optimistic locking)."""
    return catalogue_form("EventForm", CERTIFICATION_EVENT, ("effective_on", "document_no", "note"),
                          version=_version(), __doc__=event_form.__doc__)


def revoke_form(event: type[PageForm]) -> type[PageForm]:
    """A revocation: the reason (from the tier's policy) and the basis document are required.

    The fields read in the order an officer fills them in; the look-backs ("近两年内未发生重大…事故")
    count from the incident day, not from the revocation.
    """
    basis = CERTIFICATION_EVENT["document_no"]
    return catalogue_form("RevokeForm", CERTIFICATION_EVENT,
                          ("reason_code", "effective_on", "incident_on", "document_no", "note"), base=event,
                          adapt={"reason_code": {"required": True},
                                 "document_no": {"label": f"撤销{basis.label}", "required": f"撤销须填写{basis.label}"}},
                          __doc__=revoke_form.__doc__)


EnterpriseForm = enterprise_form()
GrantForm = grant_form()
EventForm = event_form()
RevokeForm = revoke_form(EventForm)


#: the annual figures a correction compares with what was filed (every field but the year)
FIGURES = (*(f.name for f in ANNUAL_REPORT if f.name not in ("year", "submitted_on")), "submitted_on")


def annual_report_form() -> type[PageForm]:
    """One year's figures of the annual information update (amounts in yuan)."""
    #: `basis`: the filed values the form was prefilled with (JSON), so a correction changes only what
    #: the officer changed
    return catalogue_form("AnnualReportForm", ANNUAL_REPORT, basis=HiddenField(), FIGURES=FIGURES,
                          __doc__=annual_report_form.__doc__)


class ChangeReportChecks(PageForm):
    """What a change report form checks beyond each field's bounds."""

    def validate_reported_on(self, field: DateField) -> None:
        """A change cannot be reported before it happened."""
        if field.data and self.occurred_on.data and field.data < self.occurred_on.data:
            raise ValidationError("报告日期不能早于发生日期")


def change_report_form() -> type[PageForm]:
    """A major change (重大变化) and when it was reported."""
    return catalogue_form("ChangeReportForm", CHANGE_REPORT, base=ChangeReportChecks,
                          __doc__=change_report_form.__doc__)


AnnualReportForm = annual_report_form()
ChangeReportForm = change_report_form()
