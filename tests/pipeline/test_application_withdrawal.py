"""An application registered by mistake is withdrawn before any opinion, with a reason, as an audited event
that keeps what it was; after an opinion, another region, no reason: refused, nothing changed."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from registry.audit.models import AuditEvent
from registry.domain.errors import Conflict, NotFound, RuleViolation
from registry.pipeline.models import Application
from registry.pipeline.services import withdraw_application
from tests.conftest import NOW
from tests.pipeline.conftest import applied, giant_batch, giant_candidate, opinion
from tests.web.pages import page, post, submit


@pytest.fixture
def scene(session, admin, rules, officers):
    batch = giant_batch(session, rules, officers)
    application = applied(session, rules, officers, batch, giant_candidate(session, admin, rules, name="台州误报模具有限公司"))
    session.commit()
    return batch, application


def withdrawn(session) -> list[AuditEvent]:
    session.expire_all()
    return list(session.scalars(sa.select(AuditEvent).where(AuditEvent.action == "application.withdrawn")))


def test_withdrawn_before_any_opinion_the_trail_keeps_it_and_it_may_apply_again(session, rules, officers, scene):
    batch, application = scene
    app_id, enterprise_id = application.id, application.enterprise_id
    assert withdraw_application(session, actor=officers.city, application_id=app_id, reason="登记错了企业",
                                at=NOW) == (batch.id, "台州误报模具有限公司")
    session.commit()
    assert session.get(Application, app_id) is None
    [event] = withdrawn(session)
    assert event.entity_id == app_id and event.note == "登记错了企业"
    assert event.changes["enterprise_id"] == [enterprise_id, None] and event.changes["status"] == ["in_review", None]
    again = applied(session, rules, officers, batch, application.enterprise)
    assert again.status == "in_review" and again.round == 1  # the unique (batch, enterprise) is free again


def test_refused_after_an_opinion_for_another_region_or_without_a_reason(session, rules, officers, scene):
    _, application = scene
    with pytest.raises(RuleViolation):
        withdraw_application(session, actor=officers.city, application_id=application.id, reason="  ", at=NOW)
    with pytest.raises(NotFound):
        withdraw_application(session, actor=officers.hangzhou, application_id=application.id, reason="越权", at=NOW)
    opinion(session, rules, officers, application, "district")
    session.commit()
    with pytest.raises(Conflict) as refused:
        withdraw_application(session, actor=officers.city, application_id=application.id, reason="误报", at=NOW)
    assert "不予推荐" in refused.value.message
    session.rollback()
    assert session.get(Application, application.id) is not None and withdrawn(session) == []


def test_the_page_previews_and_withdraws(login_as, session, scene):
    batch, application = scene
    officer = login_as("officer", "331000")
    assert f"/applications/{application.id}/withdrawal" in page(officer, f"/applications/{application.id}")
    missing = post(officer, f"/applications/{application.id}/withdrawal", {"reason": ""})
    assert missing.status_code == 422 and "此项必填" in missing.get_data(as_text=True)
    confirm, done = submit(officer, f"/applications/{application.id}/withdrawal", {"reason": "批次选错"})
    assert "原内容保留在审计日志中" in confirm and done.status_code == 302
    assert done.headers["Location"].endswith(f"/batches/{batch.id}")
    assert session.get(Application, application.id) is None and withdrawn(session)[0].note == "批次选错"


def test_readers_and_other_regions_cannot(login_as, session, scene):
    _, application = scene
    page(login_as("auditor", "331000"), f"/applications/{application.id}/withdrawal", status=403)
    hangzhou = login_as("officer", "330100")
    page(hangzhou, f"/applications/{application.id}/withdrawal", status=404)
    response = post(hangzhou, f"/applications/{application.id}/withdrawal", {"reason": "越权", "confirmed": "1"},
                    token_from="/enterprises")
    assert response.status_code == 404 and session.get(Application, application.id) is not None
