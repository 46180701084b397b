"""The 站内消息 page (with the unread count in the menu) and the 提醒渠道 settings page (issue 18 §8).

站内消息: every reminder that reached the signed-in user, whatever channel carried it, newest first,
paged; each can be marked read, or all at once. 提醒渠道: the user's own DingTalk / WeCom robots and
浙政钉 account, and — for a 业务管理员 — the channels of the offices in their region, each added, edited
(`/channels/<id>/edit`: the same service, guards and audit as the API's PATCH) or removed; and the user's
switch for reminder e-mail. Addresses and secrets are never shown back, only their last four characters,
and are replaced only when typed. A refusal is shown beside its field and changes nothing.
"""

from __future__ import annotations

from flask import abort, flash, g, redirect, render_template, request, url_for
from wtforms import BooleanField, HiddenField, PasswordField, SelectField, StringField
from wtforms.validators import AnyOf, Length, Optional

from registry.accounts.access import current_actor, requires
from registry.channels import services
from registry.channels.models import CHANNEL_NAMES, ChannelTarget
from registry.domain.actors import Action, Role
from registry.domain.errors import NotFound, PermissionDenied
from registry.platform.bounds import MAX_PAGE
from registry.platform.extensions import get_session
from registry.regions.reference import region_names
from registry.web.clock import now
from registry.web.pages import bp
from registry.web.pages.choices import region_choices
from registry.web.pages.flow import saved
from registry.web.pages.forms import PageForm, choices
from registry.web.pages.helpers import clamped_page

PER_PAGE = 20
LABEL_TOO_LONG = f"名称：最多 {services.LABEL_MAX} 个字"
ADDRESS_TOO_LONG = "地址：最多 500 个字符，请只粘贴机器人的 webhook 地址或账号 ID"
SECRET_TOO_LONG = "加签密钥：最多 128 个字符"


class EditForm(PageForm):
    """A channel's changes: a blank address or secret keeps the stored one (never shown back in full)."""

    label = StringField("名称", validators=[Length(max=services.LABEL_MAX, message=LABEL_TOO_LONG)])
    address = StringField("地址", validators=[Length(max=500, message=ADDRESS_TOO_LONG)])
    secret = PasswordField("加签密钥（仅钉钉机器人）", validators=[Optional(), Length(max=128, message=SECRET_TOO_LONG)])
    include_subregions = BooleanField("也接收下级地区的提醒")


class ChannelForm(EditForm):
    """A channel to add (the user's own, or an office's when `region_code` is chosen)."""

    kind = SelectField("渠道类型", choices=choices(list(services.KIND_NAMES.items())))
    region_code = SelectField("单位", choices=[], validate_choice=False)


class EmailForm(PageForm):
    """Reminder e-mail on ("1") or off ("0")."""

    enabled = HiddenField(validators=[AnyOf(["0", "1"], message="邮件提醒：请选择开启或关闭")])


class ButtonForm(PageForm):
    """A button's form (CSRF only)."""


@bp.app_template_global("inbox_unread")
def inbox_unread() -> int:
    """The signed-in user's unread messages, counted once per request (the menu shows it)."""
    if "inbox_unread" not in g:
        actor = g.get("actor")
        g.inbox_unread = services.unread_count(get_session(), actor.user_id) if actor is not None else 0
    return g.inbox_unread


@bp.app_template_global("reminder_email_off")
def reminder_email_off() -> bool:
    """Whether the signed-in user switched reminder e-mail off (the 待办 and 提醒 pages say so)."""
    actor = g.get("actor")
    choice = services.email_choice(get_session(), actor) if actor is not None else None
    return choice is not None and not choice.enabled


@bp.get("/inbox")
@requires(Action.READ)
def inbox():
    """The user's messages, newest first, 20 a page; `?unread=1` only the unread ones."""
    session, actor = get_session(), current_actor()
    unread_only = request.args.get("unread") == "1"
    page = min(max(request.args.get("page", 1, type=int), 1), MAX_PAGE)
    rows, total, page, pages = clamped_page(
        lambda n: services.inbox_page(session, actor, page=n, per_page=PER_PAGE, unread_only=unread_only),
        page, PER_PAGE)
    return render_template("inbox.html", rows=rows, total=total, page=page, pages=pages, unread_only=unread_only,
                           unread=services.unread_count(session, actor.user_id), button=ButtonForm(),
                           is_user=actor.user_id is not None)


@bp.post("/inbox/<int:message_id>/read")
@requires(Action.READ)
def inbox_read_page(message_id: int):
    """Mark one message read; back to where the user was."""
    return _mark(message_id)


@bp.post("/inbox/read-all")
@requires(Action.READ)
def inbox_read_all_page():
    """Mark every message read."""
    return _mark(None)


def _mark(message_id: int | None):  # noqa: ANN202
    session = get_session()
    back = url_for("pages.inbox", page=request.args.get("page", 1, type=int),
                   **({"unread": "1"} if request.args.get("unread") == "1" else {}))
    if not ButtonForm().validate_on_submit():
        flash("页面已过期，请刷新后重试", "error")
        return redirect(back)
    try:
        marked = services.mark_read(session, actor=current_actor(), message_id=message_id, at=now())
    except NotFound:
        session.rollback()
        flash("该消息不存在或不属于您", "error")
        return redirect(back)
    session.commit()
    if message_id is None:
        flash(f"已将 {marked} 条消息标为已读" if marked else "没有未读消息")
    return redirect(back)


def _render(form: ChannelForm, status: int = 200):  # noqa: ANN202
    session, actor = get_session(), current_actor()
    names = region_names(session)
    return render_template(
        "channels.html", form=form, button=ButtonForm(), channel_names=CHANNEL_NAMES,
        own=[services.view(t) for t in services.own_targets(session, actor)],
        offices=[services.view(t) for t in services.office_targets(session, actor)], region_names=names,
        is_admin=actor.role == Role.ADMIN, is_user=actor.user_id is not None,
        email=services.email_choice(session, actor), email_form=EmailForm()), status


def _form() -> ChannelForm:
    form = ChannelForm()
    actor = current_actor()
    form.region_code.choices = (region_choices(actor, blank="本人（我自己的渠道）", districts=True)
                                if actor.role == Role.ADMIN else choices([("", "本人（我自己的渠道）")]))
    return form


@bp.get("/channels")
@requires(Action.READ)
def channels():
    """The user's own channels and, for admins, their offices' channels, with the form to add one."""
    return _render(_form())


@bp.post("/channels")
@requires(Action.READ)
def add_channel_page():
    """Add a channel; re-render with the refusal beside its field."""
    form = _form()
    target, refused = saved(form, _render, lambda: services.add_target(
        get_session(), actor=current_actor(), kind=form.kind.data, label=form.label.data, address=form.address.data,
        secret=form.secret.data, region_code=form.region_code.data or None,
        include_subregions=form.include_subregions.data, at=now()))
    if refused is not None:
        return refused
    flash(f"已添加{services.KIND_NAMES[target.kind.value]}：{target.label}。此后的提醒也会发到这里。")
    return redirect(url_for("pages.channels"))


@bp.post("/channels/<int:target_id>/remove")
@requires(Action.READ)
def remove_channel_page(target_id: int):
    """Stop using a channel."""
    session = get_session()
    if not ButtonForm().validate_on_submit():
        flash("页面已过期，请刷新后重试", "error")
        return redirect(url_for("pages.channels"))
    try:
        target = services.remove_target(session, actor=current_actor(), target_id=target_id, at=now())
    except NotFound:
        session.rollback()
        flash("该渠道不存在或您无权停用", "error")
        return redirect(url_for("pages.channels"))
    session.commit()
    flash(f"已停用：{target.label}。尚未发出的消息将记为发送失败并列入待办。")
    return redirect(url_for("pages.channels"))


@bp.post("/channels/email")
@requires(Action.READ)
def channel_email_page():
    """Switch the user's reminder e-mail on or off; a repeated click (a stale page) changes nothing."""
    session, form = get_session(), EmailForm()
    if not form.validate_on_submit():
        flash("页面已过期，请刷新后重试" if form.csrf_token.errors else "邮件提醒：请选择开启或关闭", "error")
        return redirect(url_for("pages.channels"))
    enabled = form.enabled.data == "1"
    before = services.email_choice(session, current_actor())
    try:
        choice = services.set_email(session, actor=current_actor(), enabled=enabled, at=now())
    except PermissionDenied as exc:
        session.rollback()
        flash(exc.message.split(" / ")[0], "error")
        return redirect(url_for("pages.channels"))
    session.commit()
    if before is not None and before.enabled == enabled:
        flash("邮件提醒本已开启，未作更改。" if enabled else "邮件提醒本已关闭，未作更改。")
    elif enabled:
        flash("已开启邮件提醒：此后的提醒也发到您的邮箱。" + ("" if choice.has_address else "您的账号还没有邮箱地址，请联系管理员填写。"))
    else:
        flash("已关闭邮件提醒：此后的提醒只发到站内消息和您设置的渠道；已排队的邮件仍会发出。")
    return redirect(url_for("pages.channels"))


def _editable(target_id: int) -> ChannelTarget:
    """The channel the signed-in user may change, or a 404 (another's, removed or unknown: as if absent)."""
    try:
        return services.editable(get_session(), actor=current_actor(), target_id=target_id)
    except NotFound:
        abort(404)


def _render_edit(form: EditForm, status: int = 200, *, target_id: int):  # noqa: ANN202
    return render_template("channel_edit.html", form=form, t=services.view(_editable(target_id)),
                           region_names=region_names(get_session())), status


@bp.get("/channels/<int:target_id>/edit")
@requires(Action.READ)
def edit_channel_page(target_id: int):
    """The form to change a channel: name and reach prefilled; address and secret blank (typed only to replace)."""
    target = _editable(target_id)
    form = EditForm(data={"label": target.label, "include_subregions": target.include_subregions})
    return _render_edit(form, target_id=target_id)


@bp.post("/channels/<int:target_id>/edit")
@requires(Action.READ)
def change_channel_page(target_id: int):
    """Change a channel as the API does (same service, guards and audit); a refusal is shown beside its field."""
    form = EditForm()
    try:
        target, refused = saved(form, lambda f, status=200: _render_edit(f, status, target_id=target_id),
                                lambda: services.update_target(
                                    get_session(), actor=current_actor(), target_id=target_id, label=form.label.data,
                                    address=form.address.data or None, secret=form.secret.data or None,
                                    include_subregions=form.include_subregions.data, at=now()))
    except NotFound:
        get_session().rollback()
        abort(404)
    if refused is not None:
        return refused
    flash(f"已保存：{target.label}。")
    return redirect(url_for("pages.channels"))
