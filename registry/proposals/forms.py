"""Forms of proposals shown on other features' pages: lifting a ban early (the enterprise page offers it)."""

from __future__ import annotations

from datetime import date

from wtforms import DateField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from registry.web.pages.forms import PageForm


class BanLiftForm(PageForm):
    """Lift a ban early: from when, on what basis."""

    lifted_on = DateField("解除日期", validators=[DataRequired("请填写解除日期")])
    document_no = StringField("依据文号", validators=[Optional(), Length(max=128)])
    note = TextAreaField("说明", validators=[Optional(), Length(max=1000)])


def lift_form(on: date) -> BanLiftForm:
    """A blank lifting form for the enterprise page (dated today)."""
    form = BanLiftForm(formdata=None)
    form.lifted_on.data = on
    return form
