"""培育库 and 申报批次 pages: pools (run, members with their criteria reports, add/remove), batch list and creation.

Each write form posts to its own URL, calls one service, commits and redirects; a refusal from the
rules rolls back and comes back as a message (the page shows it; nothing was changed).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import flash, redirect, render_template, request, url_for
from flask_wtf import FlaskForm

from registry.accounts.access import current_actor, requires
from registry.domain.actors import Action, can
from registry.domain.criteria_report import VERDICT_NAMES
from registry.domain.errors import Conflict, NotFound, PermissionDenied, RuleViolation
from registry.pipeline import services as pipeline
from registry.pipeline.api_pools import visible
from registry.pipeline.forms import BatchForm, MemberAddForm, MemberRemoveForm, PoolRunForm, RerunForm
from registry.pipeline.models import Batch, Pool
from registry.pipeline.pools import STANDINGS
from registry.platform.db import utcnow
from registry.platform.extensions import get_session
from registry.web.errors import DB_CONFLICTS, as_conflict
from registry.web.pages import bp
from registry.web.pages.choices import tier_choices
from registry.web.pages.flow import rules, today
from registry.web.pages.forms import choices
from registry.web.pages.helpers import clamped_page, page_arg, year_arg

VERDICTS_PER_PAGE = 50
BATCH_NAMES = {"open": "受理推荐中", "publicity": "公示中", "finalised": "已办结"}


def submit(form: FlaskForm, action: Callable[[], str], back: str):  # noqa: ANN201  a Flask response
    """Validate `form`, run `action` (a service call), commit and flash; on refusal flash why. Redirect to `back`."""
    if not form.validate_on_submit():
        for name, messages in form.errors.items():
            label = form[name].label.text if name in form._fields else "表单"
            flash(f"{label}：{'；'.join(map(str, messages))}", "error")
        return redirect(back)
    try:
        message = action()
        get_session().commit()
    except (RuleViolation, Conflict, *DB_CONFLICTS) as exc:
        get_session().rollback()
        refusal = exc if isinstance(exc, RuleViolation | Conflict) else as_conflict(exc)
        if refusal is None:
            raise
        errors = refusal.errors if isinstance(refusal, RuleViolation) else {"": [refusal.message]}
        for messages in errors.values():
            for m in messages:
                flash(f"未办理：{str(m).split(' / ')[0]}", "error")
        return redirect(back)
    flash(message)
    return redirect(back)


def writer() -> bool:
    """Tell whether the actor may use the write forms (auditors only read)."""
    return can(current_actor(), Action.WRITE)


def listing(model: type[Pool] | type[Batch]) -> tuple[list[Any], int, int]:
    """Return one page of the pools or batches that concern the actor, total and page number."""
    page = page_arg()
    rows, total, _, _ = visible(model, {"tier": (request.args.get("tier") or "")[:32] or None,
                                        "year": year_arg(), "page": page, "per_page": 50})
    return rows, total, page


@bp.get("/pools")
@requires(Action.READ)
def pools():
    """培育库: the pools of the region, and the form to run a new pre-check."""
    form = PoolRunForm(formdata=None)
    form.tier.choices = choices(tier_choices())
    form.year.data = today().year
    rows, total, page = listing(Pool)
    return render_template("pools.html", rows=rows, total=total, page=page, form=form, can_write=writer())


@bp.post("/pools/run")
@requires(Action.WRITE)
def run_pool():
    """Run the pre-check and open the new pool."""
    form = PoolRunForm()
    form.tier.choices = choices(tier_choices())
    made: dict[str, int] = {}

    def action() -> str:
        pool = pipeline.run_pool(get_session(), actor=current_actor(), rules=rules(), tier=form.tier.data,
                                 year=form.year.data, on=today(), at=utcnow())
        made["id"] = pool.id
        return f"已生成培育库：核查 {pool.evaluated} 家企业"

    response = submit(form, action, url_for("pages.pools"))
    return redirect(url_for("pages.pool", pool_id=made["id"])) if "id" in made else response


@bp.app_template_global("pool_verdicts_of")
def pool_verdicts_of(enterprise_id: int) -> list[Any]:
    """The enterprise page's 培育库核查结论: its latest verdict in each pool (empty when none concerns it)."""
    try:
        return pipeline.enterprise_verdicts(get_session(), actor=current_actor(), enterprise_id=enterprise_id)
    except (NotFound, PermissionDenied):
        return []


@bp.get("/pools/<int:pool_id>")
@requires(Action.READ)
def pool(pool_id: int):
    """A pool: every evaluated enterprise with its verdict — 在库 with the full report, 未入库 with the
    reason (rule, values, source, or the officer's reason) — filtered and paged; add, remove, re-run."""
    session, actor = get_session(), current_actor()
    record = pipeline.get_pool(session, actor, pool_id)
    standing = request.args.get("standing", "")
    standing = standing if standing in STANDINGS else ""
    rows, total, page, pages = clamped_page(
        lambda n: pipeline.pool_verdicts(session, actor=actor, pool_id=record.id, standing=standing, page=n,
                                         per_page=VERDICTS_PER_PAGE), page_arg(), VERDICTS_PER_PAGE)
    counts = {key: pipeline.pool_verdicts(session, actor=actor, pool_id=record.id, standing=key, per_page=1)[1]
              for key in STANDINGS}
    return render_template("pool.html", pool=record, rows=rows, total=total, page=page, pages=pages,
                           standing=standing, standings=STANDINGS, counts=counts,
                           add_form=MemberAddForm(formdata=None),
                           remove_forms={e.id: MemberRemoveForm(formdata=None, prefix=f"e{e.id}")
                                         for _v, m, e in rows if m is not None and m.included},
                           verdict_names=VERDICT_NAMES, can_write=writer(),
                           can_rerun=writer() and actor.region_code == record.region_code)


@bp.post("/pools/<int:pool_id>/rerun")
@requires(Action.WRITE)
def rerun_pool(pool_id: int):
    """Re-run the pool's pre-check and replace its verdicts."""
    form = RerunForm()

    def action() -> str:
        pool = pipeline.rerun_pool(get_session(), actor=current_actor(), rules=rules(), pool_id=pool_id, at=utcnow())
        return f"已重新核查：核查 {pool.evaluated} 家企业，核查结论已更新"

    return submit(form, action, url_for("pages.pool", pool_id=pool_id))


@bp.post("/pools/<int:pool_id>/members")
@requires(Action.WRITE)
def add_member(pool_id: int):
    """Add an enterprise by hand, with the reason."""
    form = MemberAddForm()
    return submit(form, lambda: "已加入培育库" if pipeline.add_candidate(
        get_session(), actor=current_actor(), rules=rules(), pool_id=pool_id, enterprise_id=form.enterprise_id.data,
        reason=form.reason.data, at=utcnow()) else "", url_for("pages.pool", pool_id=pool_id))


@bp.post("/pools/<int:pool_id>/members/<int:enterprise_id>/remove")
@requires(Action.WRITE)
def remove_member(pool_id: int, enterprise_id: int):
    """Take a member out, with the reason."""
    form = MemberRemoveForm(prefix=f"e{enterprise_id}")
    return submit(form, lambda: "已移出培育库" if pipeline.remove_candidate(
        get_session(), actor=current_actor(), pool_id=pool_id, enterprise_id=enterprise_id,
        reason=form.reason.data, at=utcnow()) else "", url_for("pages.pool", pool_id=pool_id))


def batch_form() -> BatchForm:
    """Return the batch creation form with the tiers in force."""
    form = BatchForm()
    form.tier.choices = choices([("", "请选择"), *tier_choices()])
    return form


@bp.get("/batches")
@requires(Action.READ)
def batches():
    """申报批次: the batches that concern the region, and the form to open one."""
    form = BatchForm(formdata=None)
    form.tier.choices = choices([("", "请选择"), *tier_choices()])
    form.year.data = today().year
    rows, total, page = listing(Batch)
    return render_template("batches.html", rows=rows, total=total, page=page, form=form, can_write=writer(),
                           batch_names=BATCH_NAMES)


@bp.post("/batches")
@requires(Action.WRITE)
def create_batch():
    """Open a batch with its quotas and deadlines."""
    form = batch_form()

    def action() -> str:
        batch = pipeline.create_batch(get_session(), actor=current_actor(), rules=rules(), tier=form.tier.data,
                                      year=form.year.data, name=form.name.data,
                                      quotas=getattr(form, "quota_map", {}), deadlines=form.deadlines(),
                                      today=today(), at=utcnow())
        return f"已创建批次“{batch.name}”"

    return submit(form, action, url_for("pages.batches"))


