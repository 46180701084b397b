"""Pipeline actions with consequences, each through the confirm flow of flow.py (form → consequence → change).

An opinion (recommend, return for correction, reject), a resubmission after a return, opening the
publicity window, resolving an objection and finalising a batch first show what they will do —
worked out by the service's `plan_*` function, which runs the very checks the change runs — and
only the confirmation writes. A refusal (quota full, objection open, window not over …) is shown
on the form page beside the field it concerns; nothing was changed.
"""

from __future__ import annotations

from collections.abc import Iterable

from flask import url_for

from registry.accounts.access import current_actor, requires
from registry.domain import consequences
from registry.domain.actors import Action
from registry.pipeline import services as pipeline
from registry.pipeline.common import LEVEL_NAMES, acting_level
from registry.pipeline.forms import (
    FinaliseForm,
    ObjectionCorrectionForm,
    ObjectionWithdrawalForm,
    OpinionForm,
    PublicityForm,
    ResolutionForm,
    ResubmissionForm,
    WithdrawalForm,
)
from registry.pipeline.models import Application, ApplicationStatus, Decision, Objection, ObjectionStatus
from registry.pipeline.objections import FIELD_NAMES
from registry.pipeline.schemas import DECISION_NAMES, OBJECTION_NAMES
from registry.pipeline.services import (
    CorrectionPlan,
    FinalisePlan,
    OpinionPlan,
    PublicityPlan,
    QuotaSlot,
    ResolutionPlan,
    ResubmissionPlan,
)
from registry.platform.db import utcnow
from registry.platform.extensions import get_session
from registry.web.pages import bp
from registry.web.pages.flow import Step, rules, run, today

TEMPLATE = "pipeline_action.html"


def _who(application: Application) -> str:
    return f"申请 #{application.id}（{application.enterprise.name}）"


def _names(applications: Iterable[Application]) -> str:
    return "、".join(f"#{a.id} {a.enterprise.name}" for a in applications)


def _slots(slots: Iterable[QuotaSlot]) -> str:
    return "、".join(f"{s.region_name}（{s.region_code}）{LEVEL_NAMES[s.level]}" for s in slots)


def _zh(text: str | None) -> str:
    return (text or "").split(" / ")[0]


def opinion_lines(plan: OpinionPlan) -> list[str]:
    """Say what an opinion will do: where the application goes next and which quota places it takes or keeps."""
    who, level = _who(plan.application), LEVEL_NAMES[plan.level]
    if plan.decision == Decision.RECOMMEND:
        after = plan.after["current_level"]
        lines = [f"{level}推荐{who}，" + (f"转由{LEVEL_NAMES[after]}出具意见" if after
                                         else "各级推荐完成，列入本批次公示名单")]
        lines += [f"占用{s.region_name}（{s.region_code}）{LEVEL_NAMES[s.level]}推荐名额 1 个："
                  f"推荐后已用 {len(s.held_by) + 1} / {s.quota}" for s in plan.quotas]
    elif plan.decision == Decision.RETURN:
        lines = [f"{who}退回企业补正，推荐流程暂停",
                 f"企业补正后由本地区经办人重新提交，进入第 {plan.application.round + 1} 轮，"
                 f"从{LEVEL_NAMES[plan.chain[0]]}重新推荐"]
        if plan.held:
            lines.append(f"本轮已出具的推荐仍占用{_slots(plan.held)}推荐名额，重新提交时释放")
        lines.append("公示开始前未重新提交并获逐级推荐的，批次办结时记为未认定")
    else:
        lines = [f"{level}不予推荐{who}：申请终止，不列入公示名单，批次办结时记为不予推荐"]
        if plan.held:
            lines.append(f"本轮下级已出具的推荐继续计入{_slots(plan.held)}推荐名额")
    return [*lines, f"意见说明：{plan.note}"] if plan.note else lines


def resubmission_lines(plan: ResubmissionPlan) -> list[str]:
    """Say what resubmitting will do: the new round, where it starts, the quota places it frees."""
    chain = "→".join(LEVEL_NAMES[level] for level in plan.chain)
    lines = [f"{_who(plan.application)}重新提交，进入第 {plan.round} 轮，从{LEVEL_NAMES[plan.chain[0]]}重新出具意见"
             f"（推荐链：{chain}）"]
    lines.append(f"上一轮推荐占用的{_slots(plan.freed)}推荐名额随之释放" if plan.freed
                 else "上一轮未占用推荐名额")
    return [*lines, "重新提交及补正说明记入审计记录"]


def publicity_lines(plan: PublicityPlan) -> list[str]:
    """Say what opening the window will do: who is listed and whose review stops."""
    lines = [f"公示期 {plan.starts_on} 至 {plan.ends_on}，发布渠道：{plan.published_where}",
             f"列入公示名单 {len(plan.listed)} 件：{_names(plan.listed)}"]
    if plan.stopped:
        lines.append(f"尚未完成逐级推荐的 {len(plan.stopped)} 件申请（{_names(plan.stopped)}）不再受理意见，"
                     "批次办结时记为未认定")
    return [*lines, "公示期内可登记实名书面异议；公示期结束且异议全部处理后方可办结"]


def resolution_lines(plan: ResolutionPlan) -> list[str]:
    """Say what resolving the objection does to its application and to finalising the batch."""
    objection, who = plan.objection, _who(plan.objection.application)
    if plan.outcome == ObjectionStatus.UPHELD:
        lines = [f"异议 #{objection.id} 成立：{who}在批次办结时不予认定（记为公示期间异议成立）"]
    else:
        lines = [f"异议 #{objection.id} 不成立：{who}保留在公示名单，批次办结时按公布日期认定（如无其他成立的异议）"]
    if plan.still_open:
        lines.append(f"本批次尚有 {len(plan.still_open)} 件异议待处理（{'、'.join(f'#{i}' for i in plan.still_open)}），"
                     "全部处理前不能办结")
    else:
        lines.append(f"处理后本批次异议全部处理完毕，公示期（至 {objection.batch.publicity_ends_on}）结束后即可办结")
    return [*lines, f"处理意见：{plan.note}"]


def correction_lines(plan: CorrectionPlan) -> list[str]:
    """Say what correcting the objection changes: each field old → new, and what becomes of it."""
    lines = [f"更正异议 #{plan.objection.id}：{FIELD_NAMES[f]}：{before} → {after}" for f, before, after in plan.changes]
    if plan.anonymous_why:
        lines.append(f"更正后为匿名异议，不予受理（{plan.anonymous_why}），不再影响办结")
    else:
        lines.append("异议仍为待处理，由发布公示名单的单位处理；原登记内容保留在审计日志中")
    return [*lines, f"更正原因：{plan.reason}"]


def finalise_lines(plan: FinalisePlan) -> list[str]:
    """Say which applications will be granted (with the terms the policy gives) and which not, and why."""
    lines = [f"办结“{plan.batch.name}”，名单公布日期即认定日期：{plan.published_on}"]
    if plan.granted:
        lines.append(f"予以认定 {len(plan.granted)} 件：{_names(plan.granted)}")
        lines += consequences.grant(plan.tier, plan.published_on)
    else:
        lines.append("没有予以认定的申请")
    lines += [f"不予认定：{_who(s.application)}——{_zh(s.note)}" for s in plan.not_granted]
    return [*lines, "办结后不再受理异议和推荐意见"]


def finalise_form() -> FinaliseForm:
    """Return the finalise form, dated today until the officer submits another date."""
    form = FinaliseForm()
    if not form.is_submitted():
        form.published_on.data = today()
    return form


def _batch_url(batch_id: int) -> str:
    return url_for("pages.batch", batch_id=batch_id)


def _application_url(application_id: int) -> str:
    return url_for("pages.application", application_id=application_id)


@bp.route("/applications/<int:application_id>/opinions", methods=["GET", "POST"])
@requires(Action.WRITE)
def record_opinion(application_id: int):
    """Give the opinion of the actor's level, after seeing where the application goes and the quota it takes."""
    session, actor, form = get_session(), current_actor(), OpinionForm()
    application = pipeline.get_application(session, actor, application_id)
    level = acting_level(actor.region_code)
    args = dict(actor=actor, rules=rules(), application_id=application_id, level=level)

    def apply() -> str:
        opinion = pipeline.record_opinion(session, **args, decision=form.decision.data, note=form.note.data,
                                          on=today(), at=utcnow())
        return f"已出具{LEVEL_NAMES[level]}意见：{DECISION_NAMES[opinion.decision]}"

    def lines() -> list[str]:
        return opinion_lines(pipeline.plan_opinion(session, **args, decision=form.decision.data,
                                                   note=form.note.data, on=today()))

    context = {"heading": f"出具{LEVEL_NAMES[level]}意见", "subject": _who(application),
               "back": _application_url(application_id), "danger": form.decision.data == "reject"}
    return run(Step(form, TEMPLATE, context, lines, apply, _application_url(application_id)))


@bp.route("/applications/<int:application_id>/withdrawal", methods=["GET", "POST"])
@requires(Action.WRITE)
def withdraw_application(application_id: int):
    """Withdraw an application registered by mistake, before any opinion: previewed, confirmed with a reason."""
    session, actor, form = get_session(), current_actor(), WithdrawalForm()
    application = pipeline.get_application(session, actor, application_id)
    who, batch_id = _who(application), application.batch_id

    def apply() -> str:
        pipeline.withdraw_application(session, actor=actor, application_id=application_id,
                                      reason=form.reason.data or "", at=utcnow())
        return f"已撤回误登记的{who}"

    def lines() -> list[str]:
        return [f"撤回误登记的{who}：该申请从批次中删除，原内容保留在审计日志中",
                "不占用任何推荐名额；该申请的推荐意见提醒不再发送",
                "只能在批次受理期内、尚无任何推荐意见时撤回；已有意见的，请由当前层级出具“不予推荐”意见"]

    context = {"heading": "撤回误登记的申请", "subject": who, "back": _application_url(application_id),
               "danger": True}
    return run(Step(form, TEMPLATE, context, lines, apply, url_for("pages.batch", batch_id=batch_id)))


@bp.route("/applications/<int:application_id>/resubmission", methods=["GET", "POST"])
@requires(Action.WRITE)
def resubmit(application_id: int):
    """Resubmit a returned application once corrected: a new round from the bottom of the chain."""
    session, actor, form = get_session(), current_actor(), ResubmissionForm()
    application = pipeline.get_application(session, actor, application_id)
    args = dict(actor=actor, rules=rules(), application_id=application_id)

    def apply() -> str:
        done = pipeline.resubmit(session, **args, on=today(), at=utcnow(), note=form.note.data)
        return f"已重新提交，进入第 {done.round} 轮推荐"

    def lines() -> list[str]:
        return resubmission_lines(pipeline.plan_resubmission(session, **args))

    context = {"heading": "退回补正后重新提交", "subject": _who(application),
               "back": _application_url(application_id)}
    return run(Step(form, TEMPLATE, context, lines, apply, _application_url(application_id)))


@bp.route("/batches/<int:batch_id>/publicity", methods=["GET", "POST"])
@requires(Action.WRITE)
def start_publicity(batch_id: int):
    """Open the publicity window, after seeing who is listed and whose review stops."""
    session, actor, form = get_session(), current_actor(), PublicityForm()
    batch = pipeline.get_batch(session, actor, batch_id)

    def fields() -> dict:
        return dict(actor=actor, batch_id=batch_id, starts_on=form.starts_on.data, ends_on=form.ends_on.data,
                    published_where=form.published_where.data, rules=rules())

    def apply() -> str:
        pipeline.start_publicity(session, **fields(), at=utcnow())
        return "已开始公示"

    def lines() -> list[str]:
        return publicity_lines(pipeline.plan_publicity(session, **fields()))

    context = {"heading": "开始公示", "subject": batch.name, "back": _batch_url(batch_id)}
    return run(Step(form, TEMPLATE, context, lines, apply, _batch_url(batch_id)))


@bp.route("/objections/<int:objection_id>/resolution", methods=["GET", "POST"])
@requires(Action.WRITE)
def resolve_objection(objection_id: int):
    """Resolve an objection as upheld or rejected, after seeing what it does to the application."""
    session, actor = get_session(), current_actor()
    objection = pipeline.get_objection(session, actor, objection_id)
    form = ResolutionForm(prefix=f"o{objection_id}")
    args = dict(actor=actor, objection_id=objection_id)

    def apply() -> str:
        done = pipeline.resolve_objection(session, **args, outcome=form.outcome.data, note=form.note.data,
                                          on=today(), at=utcnow())
        return "已处理异议：" + OBJECTION_NAMES[done.status]

    def lines() -> list[str]:
        return resolution_lines(pipeline.plan_resolution(session, **args, outcome=form.outcome.data,
                                                         note=form.note.data))

    context = {"heading": f"处理异议 #{objection_id}", "subject": _who(objection.application),
               "back": _batch_url(objection.batch_id)}
    return run(Step(form, TEMPLATE, context, lines, apply, _batch_url(objection.batch_id)))


def correction_form(objection: Objection) -> ObjectionCorrectionForm:
    """Return the correction form, prefilled with what was registered until the officer submits."""
    form = ObjectionCorrectionForm()
    if not form.is_submitted():
        for name in ("grounds", "submitter_name", "contact", "received_on"):
            getattr(form, name).data = getattr(objection, name)
        form.submitter_identity.data = objection.submitter_identity.value
    return form


@bp.route("/objections/<int:objection_id>/correction", methods=["GET", "POST"])
@requires(Action.WRITE)
def correct_objection(objection_id: int):
    """Correct an objection registered by mistake: old → new previewed, confirmed with a reason."""
    session, actor = get_session(), current_actor()
    objection = pipeline.get_objection(session, actor, objection_id)
    form = correction_form(objection)

    def fields() -> dict:
        return dict(actor=actor, objection_id=objection_id, reason=form.reason.data, today=today(),
                    grounds=form.grounds.data or "", submitter_name=form.submitter_name.data or "",
                    submitter_identity=form.submitter_identity.data, contact=form.contact.data or "",
                    received_on=form.received_on.data)

    def apply() -> str:
        pipeline.correct_objection(session, **fields(), at=utcnow())
        return f"已更正异议 #{objection_id}"

    def lines() -> list[str]:
        return correction_lines(pipeline.plan_objection_correction(session, **fields()))

    context = {"heading": f"更正误登记的异议 #{objection_id}", "subject": _who(objection.application),
               "back": _batch_url(objection.batch_id)}
    return run(Step(form, TEMPLATE, context, lines, apply, _batch_url(objection.batch_id)))


@bp.route("/objections/<int:objection_id>/withdrawal", methods=["GET", "POST"])
@requires(Action.WRITE)
def withdraw_objection(objection_id: int):
    """Withdraw an objection registered by mistake: previewed, confirmed with a reason."""
    session, actor, form = get_session(), current_actor(), ObjectionWithdrawalForm()
    objection = pipeline.get_objection(session, actor, objection_id)

    def apply() -> str:
        pipeline.withdraw_objection(session, actor=actor, objection_id=objection_id, reason=form.reason.data,
                                    on=today(), at=utcnow())
        return f"已撤回误登记的异议 #{objection_id}"

    def lines() -> list[str]:
        done, reason = pipeline.plan_objection_withdrawal(session, actor=actor, objection_id=objection_id,
                                                          reason=form.reason.data)
        others = [o.id for o in done.batch.objections if o.status == ObjectionStatus.OPEN and o.id != done.id]
        after = (f"本批次尚有 {len(others)} 件异议待处理（{'、'.join(f'#{i}' for i in others)}）" if others
                 else "本批次不再有待处理的异议，公示期结束后即可办结")
        return [f"撤回误登记的异议 #{done.id}（{_who(done.application)}）：状态改为“已撤回”，记录和原内容保留在审计日志中",
                "撤回后该异议不再影响办结，也不再列入待办；撤回不能恢复，如确有异议请重新登记", after,
                f"撤回原因：{reason}"]

    context = {"heading": f"撤回误登记的异议 #{objection_id}", "subject": _who(objection.application),
               "back": _batch_url(objection.batch_id), "danger": True}
    return run(Step(form, TEMPLATE, context, lines, apply, _batch_url(objection.batch_id)))


@bp.route("/batches/<int:batch_id>/finalise", methods=["GET", "POST"])
@requires(Action.WRITE)
def finalise(batch_id: int):
    """Finalise the batch, after seeing which applications will be granted and which not."""
    session, actor, form = get_session(), current_actor(), finalise_form()
    batch = pipeline.get_batch(session, actor, batch_id)
    args = dict(actor=actor, rules=rules(), batch_id=batch_id, today=today())

    def apply() -> str:
        done = pipeline.finalise_batch(session, **args, published_on=form.published_on.data,
                                       document_no=form.document_no.data or None, at=utcnow())
        granted = sum(a.status == ApplicationStatus.GRANTED for a in done.applications)
        return f"批次已办结：予以认定 {granted} 件，其余 {len(done.applications) - granted} 件已记录结果"

    def lines() -> list[str]:
        return finalise_lines(pipeline.plan_finalise(session, **args, published_on=form.published_on.data))

    context = {"heading": "办结批次", "subject": batch.name, "back": _batch_url(batch_id), "danger": True}
    return run(Step(form, TEMPLATE, context, lines, apply, _batch_url(batch_id)))
