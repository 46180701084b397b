"""Forms of the pipeline pages: pool run and members, batch, opinion, publicity, objection, resolution, finalise."""

from __future__ import annotations

from wtforms import BooleanField, DateField, IntegerField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional, ValidationError

from registry.web.pages.forms import REQUIRED, PageForm, choices


def _reason(label: str) -> TextAreaField:
    return TextAreaField(label, validators=[DataRequired(REQUIRED), Length(max=2000)])


class PoolRunForm(PageForm):
    """Run a tier's pre-check into a pool."""

    tier = SelectField("称号层级", validators=[DataRequired(REQUIRED)])
    year = IntegerField("评选年度（按上一年度数据核查）", validators=[InputRequired(REQUIRED), NumberRange(2000, 2100)])


class MemberAddForm(PageForm):
    """Add an enterprise to a pool by hand."""

    enterprise_id = IntegerField("企业编号", validators=[InputRequired(REQUIRED), NumberRange(min=1)])
    reason = _reason("加入理由")


class ApplicationForm(PageForm):
    """An enterprise applies in a batch: named by its USCC, as officers know it."""

    uscc = StringField("统一社会信用代码", validators=[DataRequired(REQUIRED), Length(max=40)])
    #: the tier's recommendation channels (filled by the view; none for most tiers)
    channel = SelectField("推荐渠道", validators=[Optional()])
    channel_unit = StringField("推荐单位（中央企业、行业协会等的名称）", validators=[Optional(), Length(max=128)])
    outside_quota = BooleanField("不占推荐单位名额（政策规定的情形）")


class RerunForm(PageForm):
    """Re-run a pool's pre-check (the button carries only the CSRF token)."""


class MemberRemoveForm(PageForm):
    """Take a member out of a pool."""

    reason = _reason("移出理由")


class BatchForm(PageForm):
    """Open a batch: quotas one per line as 地区代码=名额, a deadline per level."""

    tier = SelectField("称号层级", validators=[DataRequired(REQUIRED)])
    year = IntegerField("年度", validators=[InputRequired(REQUIRED), NumberRange(2000, 2100)])
    name = StringField("批次名称（如“第一批”）", validators=[DataRequired(REQUIRED), Length(max=64)])
    quotas = TextAreaField("推荐名额（每行一个：地区代码=名额，如 331000=2）", validators=[Optional(), Length(max=4000)])
    district = DateField("区县级推荐截止日期", validators=[Optional()])
    city = DateField("市级推荐截止日期", validators=[Optional()])
    province = DateField("省级推荐截止日期", validators=[Optional()])
    ministry = DateField("部级推荐截止日期", validators=[Optional()])

    LEVELS = ("district", "city", "province", "ministry")

    def validate_quotas(self, field: TextAreaField) -> None:
        """Each line is a six-digit code, "=", a whole number."""
        self.quota_map = {}
        for line in (field.data or "").splitlines():
            if not line.strip():
                continue
            code, _, number = line.replace("＝", "=").partition("=")
            if not (code.strip().isdigit() and len(code.strip()) == 6 and number.strip().isdigit()
                    and len(number.strip()) <= 6):
                raise ValidationError(f"无法识别“{line.strip()}”，应为 地区代码=名额")
            self.quota_map[code.strip()] = int(number)

    def deadlines(self) -> dict[str, str]:
        """Return the deadlines filled in, by level."""
        return {level: self[level].data.isoformat() for level in self.LEVELS if self[level].data}


class OpinionForm(PageForm):
    """Record the actor's level's opinion."""

    decision = SelectField("意见", choices=choices([("recommend", "推荐"), ("return", "退回补正"),
                                                    ("reject", "不予推荐")]), validators=[DataRequired(REQUIRED)])
    note = TextAreaField("意见说明（退回或不予推荐须填写）", validators=[Optional(), Length(max=2000)])


class PublicityForm(PageForm):
    """Open the publicity window."""

    starts_on = DateField("公示开始日期", validators=[InputRequired(REQUIRED)])
    ends_on = DateField("公示结束日期", validators=[InputRequired(REQUIRED)])
    published_where = StringField("发布渠道（如省经信厅网站）", validators=[DataRequired(REQUIRED), Length(max=200)])


class ObjectionForm(PageForm):
    """A written objection under a real name or seal."""

    application_id = SelectField("异议对象（申请）", validators=[DataRequired(REQUIRED)])
    submitter_name = StringField("异议人姓名或单位名称（须实名）", validators=[Optional(), Length(max=128)])
    submitter_identity = SelectField("签署方式", choices=choices([("real_name", "本人签名（实名）"),
                                                                 ("seal", "单位盖章"), ("anonymous", "未署名（匿名）")]),
                                     validators=[Optional()])
    contact = StringField("联系电话或地址（实名异议须能联系到本人）", validators=[Optional(), Length(max=200)])
    grounds = TextAreaField("异议的事实和理由", validators=[Optional(), Length(max=8000)])
    evidence = TextAreaField("证据材料", validators=[Optional(), Length(max=8000)])
    received_on = DateField("收到日期", validators=[InputRequired(REQUIRED)])
    confidential = BooleanField("为异议人身份保密", default=True)


class ResolutionForm(PageForm):
    """Resolve an objection."""

    outcome = SelectField("处理结果", choices=choices([("rejected", "异议不成立"), ("upheld", "异议成立")]),
                          validators=[DataRequired(REQUIRED)])
    note = TextAreaField("处理意见", validators=[DataRequired(REQUIRED), Length(max=4000)])


class ObjectionCorrectionForm(PageForm):
    """Correct an objection registered by mistake (prefilled with what was registered)."""

    grounds = TextAreaField("异议的事实和理由", validators=[DataRequired(REQUIRED), Length(max=8000)])
    submitter_name = StringField("异议人姓名或单位名称（须实名）", validators=[Optional(), Length(max=128)])
    submitter_identity = SelectField("签署方式", choices=choices([("real_name", "本人签名（实名）"),
                                                                 ("seal", "单位盖章"), ("anonymous", "未署名（匿名）")]),
                                     validators=[DataRequired(REQUIRED)])
    contact = StringField("联系电话或地址（实名异议须能联系到本人）", validators=[Optional(), Length(max=200)])
    received_on = DateField("收到日期", validators=[InputRequired(REQUIRED)])
    reason = TextAreaField("更正原因（记入审计）", validators=[DataRequired(REQUIRED), Length(max=2000)])


class ObjectionWithdrawalForm(PageForm):
    """Withdraw an objection registered by mistake."""

    reason = TextAreaField("撤回原因（记入审计）", validators=[DataRequired(REQUIRED), Length(max=2000)])


class FinaliseForm(PageForm):
    """Finalise a batch on its publication date."""

    published_on = DateField("名单公布日期（即认定日期）", validators=[InputRequired(REQUIRED)])
    document_no = StringField("公布文号", validators=[Optional(), Length(max=128)])


class WithdrawalForm(PageForm):
    """Withdraw an application registered by mistake."""

    reason = TextAreaField("撤回原因（记入审计）", validators=[DataRequired("此项必填"), Length(max=2000)])


class ResubmissionForm(PageForm):
    """Resubmit a returned application once the enterprise has corrected it."""

    note = TextAreaField("补正情况说明（记入审计）", validators=[Optional(), Length(max=2000)])
