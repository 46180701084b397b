"""The 截止日期调整 page: where a province or city moved the annual update's window, by year (issue 17 §4).

Everyone signed in sees the overrides governing their region; a 业务管理员 adds one (region, year,
date, 文号, note) and removes one. A refusal is shown beside the field it names; nothing changes.
"""

from __future__ import annotations

from flask import flash, redirect, render_template, url_for
from wtforms import DateField, IntegerField, SelectField, StringField
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from registry.accounts.access import current_actor, requires
from registry.domain.actors import SYSTEM_KINDS, Action, Role, can
from registry.domain.errors import NotFound, PermissionDenied
from registry.platform.extensions import get_session
from registry.policies import overrides
from registry.web.clock import now, today
from registry.web.pages import bp
from registry.web.pages.flow import rules, saved
from registry.web.pages.forms import PageForm


class OverrideForm(PageForm):
    """One override: a province or city of the actor's region, a year, the date and the notice."""

    region_code = SelectField("地区（省或地级市）", validators=[DataRequired("请选择地区")])
    year = IntegerField("年度", validators=[DataRequired("请填写年度"), NumberRange(2000, 2100, "年度应在 2000 至 2100 之间")])
    policy_date = SelectField("调整的事项", validators=[DataRequired("请选择调整的事项")])
    due_on = DateField("调整后的截止日期", validators=[DataRequired("请填写日期，如 2027-06-26")])
    document_no = StringField("文号", validators=[DataRequired("请填写调整所依据的文件文号"),
                                                Length(max=overrides.DOCUMENT_MAX)])
    note = StringField("说明", validators=[Optional(), Length(max=overrides.NOTE_MAX)])


class RemoveForm(PageForm):
    """The delete button's form (CSRF only)."""


def _may_change() -> bool:
    actor = current_actor()
    return can(actor, Action.WRITE) and (actor.kind in SYSTEM_KINDS or actor.role == Role.ADMIN)


def _form() -> OverrideForm:
    form = OverrideForm()
    form.region_code.choices = [("", "请选择"), *overrides.node_choices(get_session(), current_actor())]
    form.policy_date.choices = [(md, f"每年 {int(md[:2])} 月 {int(md[3:])} 日前的年度信息更新（{'、'.join(names)}）")
                                for md, names in overrides.policy_dates(rules()).items()]
    if not form.policy_date.data:
        form.policy_date.data = overrides.DEFAULT_POLICY_DATE
    return form


def _render(form: OverrideForm, status: int = 200):  # noqa: ANN202
    rows = overrides.list_overrides(get_session(), current_actor(), rules())
    return render_template("deadline_overrides.html", form=form, rows=rows, remove=RemoveForm(),
                           may_change=_may_change(), today=today(), kind_names=overrides.KIND_NAMES), status


@bp.get("/deadline-overrides")
@requires(Action.READ)
def deadline_overrides():
    """List the overrides governing the actor's region, and (admins) the form to add one."""
    form = _form()
    form.year.data = form.year.data or today().year
    return _render(form)


@bp.post("/deadline-overrides")
@requires(Action.WRITE)
def add_deadline_override_page():
    """Record an override; re-render with the refusal beside its field."""
    session, form = get_session(), _form()
    row, refused = saved(form, _render, lambda: overrides.add_override(
        session, actor=current_actor(), rules=rules(), region_code=form.region_code.data, year=form.year.data,
        due_on=form.due_on.data, policy_date=form.policy_date.data, document_no=form.document_no.data,
        note=form.note.data or "", at=now()))
    if refused is not None:
        return refused
    flash(f"已登记：{row.year} 年度信息更新截止日期调整为 {row.due_on}（{row.document_no}）")
    return redirect(url_for("pages.deadline_overrides"))


@bp.post("/deadline-overrides/<int:override_id>/remove")
@requires(Action.WRITE)
def remove_deadline_override_page(override_id: int):
    """Remove an override; the policy's date governs again."""
    session = get_session()
    if not RemoveForm().validate_on_submit():
        flash("页面已过期，请刷新后重试", "error")
        return redirect(url_for("pages.deadline_overrides"))
    try:
        overrides.remove_override(session, actor=current_actor(), override_id=override_id, at=now())
    except (NotFound, PermissionDenied) as exc:
        session.rollback()
        flash(exc.message.split(" / ")[0], "error")
        return redirect(url_for("pages.deadline_overrides"))
    session.commit()
    flash("已删除该调整，恢复政策规定的截止日期")
    return redirect(url_for("pages.deadline_overrides"))
