"""Service endpoints: health, tiers, the OpenAPI document."""

from __future__ import annotations

import sqlalchemy as sa
from flask import current_app, jsonify

from registry.accounts.access import requires
from registry.domain.actors import Action
from registry.domain.policy import Tier
from registry.platform.db import utcnow
from registry.platform.extensions import get_session, policies
from registry.reminders import outbox
from registry.runs import ledger as jobruns
from registry.web.api import bp
from registry.web.api.docs import build_spec, doc
from registry.web.api.schemas import TierOut


@bp.get("/health")
@doc("数据库与定时任务状态（数据库无法访问时 503）", errors=(503,))
def health():
    """Report database reachability and each job's last success; 503 when the database cannot be used."""
    session = get_session()
    try:
        session.execute(sa.text("SELECT 1"))
        last = jobruns.last_successes(session)
        now = utcnow()
        scan_late = jobruns.scan_is_late(session, now)
        mail = outbox.backlog(session, now=now, alarm_minutes=current_app.config["REGISTRY"].outbox_alarm_minutes)
    except (sa.exc.SQLAlchemyError, OSError) as exc:  # cannot open, read-only, server down, schema missing
        _discard(session)
        current_app.logger.error("health: database unusable: %s", exc.__class__.__name__, exc_info=exc)
        return jsonify(db="error", error="数据库无法打开或无法读取 / database unavailable",
                       reason=exc.__class__.__name__), 503
    return jsonify(db="ok", jobs={name: at.isoformat() for name, at in last.items()}, scan_late=scan_late,
                   outbox=mail.as_json())


def _discard(session) -> None:  # noqa: ANN001
    """Roll back a session whose connection failed, ignoring a second failure while doing so."""
    try:
        session.rollback()
    except sa.exc.SQLAlchemyError:
        session.invalidate()


def tier_out(tier: Tier) -> dict:
    """Describe a tier's rules for clients."""
    return {
        "code": tier.code, "name": tier.name, "rank": tier.rank, "programme": tier.programme,
        "policy_code": tier.policy_code, "authority": tier.authority,
        "prerequisites": [{"any_of": list(p.any_of), "when_revenue_at_most": str(p.when_revenue_at_most)
                           if p.when_revenue_at_most is not None else None, "note": p.note} for p in tier.prerequisites],
        "validity": {"semantics": tier.validity, "years": tier.validity_years},
        "review_window_days": tier.review_window_days, "missed_review": tier.missed_review,
        "review_follows_expiry": tier.review_follows_expiry, "post_expiry_review_days": tier.post_expiry_review_days,
        "annual_update_due": f"{tier.annual_update_due[0]:02d}-{tier.annual_update_due[1]:02d}" if tier.annual_update_due else None,
        "change_deadline": str(tier.change_deadline) if tier.change_deadline else None,
        "revocation_reasons": [{"code": r.code, "name": r.name, "ban_years": r.ban_years, "scope": r.scope,
                                "ban_blocks": r.ban_blocks}
                               for r in tier.revocation_reasons],
        "list_kind": tier.listing.kind if tier.listing else None,
        "channels": [{"code": c.code, "name": c.name, "unit": c.unit, "quota": c.quota, "outside_quota": c.outside_quota}
                     for c in tier.channels],
        "reports": [{"code": r.code, "name": r.name, "every": r.every, "by": r.by,
                     "due": f"{r.due[0]:02d}-{r.due[1]:02d}" if r.due else None, "days_after": r.days_after}
                    for r in tier.reports],
    }


@bp.get("/tiers")
@doc("称号层级及其规则", response=TierOut, many=True, errors=(401,))
@requires(Action.READ)
def tiers():
    """List every tier in force with its rules (public reference data)."""
    items = [TierOut().dump(tier_out(t)) for t in policies().current_tiers()]
    return jsonify(items=items, total=len(items), page=1, per_page=len(items))


@bp.get("/openapi.json")
@doc("OpenAPI 3 文档", errors=())
def openapi():
    """Return the OpenAPI document of this server."""
    return jsonify(build_spec(current_app))
