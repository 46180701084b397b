"""The batch board (per level, quota counters), the application page with its chain, and filing objections.

The actions with consequences (opinions, resubmission, publicity, resolutions, finalising) are in
pipeline_actions.py: they show what they will do before the officer confirms.
"""

from __future__ import annotations

import sqlalchemy as sa
from flask import render_template, url_for
from sqlalchemy.orm import selectinload

from registry.accounts.access import current_actor, requires
from registry.domain.actors import Action, can
from registry.domain.errors import RuleViolation
from registry.domain.uscc import normalize
from registry.enterprises.models import Enterprise
from registry.enterprises.queries import in_region
from registry.pipeline import services as pipeline
from registry.pipeline.common import LEVEL_NAMES, acting_level
from registry.pipeline.forms import (
    ApplicationForm,
    ObjectionForm,
    OpinionForm,
    PublicityForm,
    ResolutionForm,
    ResubmissionForm,
)
from registry.pipeline.models import Application, ApplicationStatus, Batch, Objection, ObjectionStatus
from registry.pipeline.page_actions import finalise_form
from registry.pipeline.pages import BATCH_NAMES, submit
from registry.pipeline.schemas import DECISION_NAMES, OBJECTION_NAMES, chain_state, may_see_submitter
from registry.platform.db import utcnow
from registry.platform.extensions import get_session
from registry.web.pages import bp
from registry.web.pages.flow import rules, today
from registry.web.pages.forms import choices

APPLICATION_NAMES = {ApplicationStatus.IN_REVIEW: "推荐中", ApplicationStatus.RETURNED: "已退回补正",
                     ApplicationStatus.REJECTED: "不予推荐", ApplicationStatus.RECOMMENDED: "已获推荐",
                     ApplicationStatus.GRANTED: "已认定", ApplicationStatus.NOT_GRANTED: "未认定"}


def _names() -> dict:
    return {"level_names": LEVEL_NAMES, "decision_names": DECISION_NAMES, "objection_names": OBJECTION_NAMES,
            "application_names": APPLICATION_NAMES, "batch_names": BATCH_NAMES}


def application_form(batch: Batch, **kwargs: object) -> ApplicationForm:
    """Return the application form with the recommendation channels of the batch's tier."""
    form = ApplicationForm(**kwargs)
    tier = rules().policies.tier(batch.tier, policy_code=batch.policy_code)
    form.channel.choices = choices([("", "不经推荐渠道"), *[(c.code, c.name) for c in tier.channels]])
    return form


def objection_form(applications: list[Application]) -> ObjectionForm:
    """Return the objection form listing the publicised applications."""
    form = ObjectionForm()
    form.application_id.choices = choices([(str(a.id), f"#{a.id} {a.enterprise.name}") for a in applications
                                           if a.status == ApplicationStatus.RECOMMENDED])
    return form


@bp.get("/batches/<int:batch_id>")
@requires(Action.READ)
def batch(batch_id: int):
    """The batch board: quotas used per region and level, applications by the level they wait at, publicity."""
    session, actor = get_session(), current_actor()
    record = pipeline.get_batch(session, actor, batch_id)
    applications = list(session.scalars(
        sa.select(Application).where(Application.batch_id == record.id,
                                     in_region(Application.region_code, actor.region_code))
        .options(selectinload(Application.opinions), selectinload(Application.enterprise)).order_by(Application.id)))
    objections = list(session.scalars(sa.select(Objection).where(
        Objection.batch_id == record.id, in_region(Objection.region_code, actor.region_code)).order_by(Objection.id)))
    columns = {level: [a for a in applications if a.current_level == level] for level in LEVEL_NAMES}
    settled = [a for a in applications if a.current_level is None]
    publicity, finalise = PublicityForm(formdata=None), finalise_form()
    objection = objection_form(applications)
    if not objection.is_submitted():
        objection.received_on.data = today()
    return render_template(
        "batch.html", batch=record, quotas=pipeline.quota_usage(session, actor=actor, batch_id=record.id),
        columns=columns, settled=settled, chains={a.id: chain_state(a) for a in applications},
        objections=objections, see_submitter=may_see_submitter(actor), can_write=can(actor, Action.WRITE),
        publisher=actor.region_code == record.region_code,
        publicity_form=publicity, objection_form=objection, application_form=application_form(record, formdata=None), finalise_form=finalise,
        resolution_forms={o.id: ResolutionForm(formdata=None, prefix=f"o{o.id}") for o in objections}, **_names())


@bp.get("/applications/<int:application_id>")
@requires(Action.READ)
def application(application_id: int):
    """An application: its chain, every opinion, its criteria report, and the form for the actor's level."""
    actor = current_actor()
    record = pipeline.get_application(get_session(), actor, application_id)
    return render_template("application.html", application=record, steps=chain_state(record),
                           form=OpinionForm(formdata=None), resubmit_form=ResubmissionForm(formdata=None),
                           my_level=acting_level(actor.region_code), can_write=can(actor, Action.WRITE),
                           **_names())


@bp.post("/batches/<int:batch_id>/applications")
@requires(Action.WRITE)
def add_application(batch_id: int):
    """Record an enterprise's application, found by its USCC within the actor's region."""
    session, actor = get_session(), current_actor()
    form = application_form(pipeline.get_batch(session, actor, batch_id))

    def action() -> str:
        enterprise_id = session.scalar(sa.select(Enterprise.id).where(Enterprise.uscc == normalize(form.uscc.data)))
        if enterprise_id is None:  # the session is region-scoped: another region's enterprise is not found either
            raise RuleViolation.on("uscc", "本地区没有该统一社会信用代码的企业 / no enterprise with this USCC in your region")
        made = pipeline.apply(session, actor=actor, rules=rules(), batch_id=batch_id, enterprise_id=enterprise_id,
                              today=today(), at=utcnow(), channel=form.channel.data or None,
                              channel_unit=form.channel_unit.data or None, outside_quota=form.outside_quota.data)
        return f"已登记申请 #{made.id}（{made.enterprise.name}）"

    return submit(form, action, url_for("pages.batch", batch_id=batch_id))


@bp.post("/batches/<int:batch_id>/objections")
@requires(Action.WRITE)
def file_objection(batch_id: int):
    """Record a written objection."""
    session, actor = get_session(), current_actor()
    form = objection_form(pipeline.get_batch(session, actor, batch_id).applications)

    def action() -> str:
        objection = pipeline.file_objection(
            session, actor=actor, batch_id=batch_id, application_id=int(form.application_id.data),
            submitter_name=form.submitter_name.data, submitter_identity=form.submitter_identity.data,
            contact=form.contact.data, grounds=form.grounds.data, evidence=form.evidence.data,
            received_on=form.received_on.data, at=utcnow(), today=today(), confidential=form.confidential.data)
        if objection.status == ObjectionStatus.NOT_ACCEPTED:
            return f"已登记异议 #{objection.id}，为匿名异议，不予受理（{objection.resolution_note.split('：', 1)[-1]}）"
        return f"已登记异议 #{objection.id}"

    return submit(form, action, url_for("pages.batch", batch_id=batch_id))
