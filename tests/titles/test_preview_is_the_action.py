"""Issue 15 §2: the preview of an event on a title is computed by the function the action uses.

`registry.titles.flags.losing_prerequisite` decides which live titles lose their prerequisite when
one ends; the action flags exactly those and the confirmation page names exactly those. (The page
used to re-derive them: it named a title already flagged, and ignored the day the event takes effect.)
"""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from registry.audit.models import AuditEvent
from registry.cli.base import today_in
from tests.factories import grant, make_enterprise
from tests.titles.test_page_actions import titles_of
from tests.web.pages import submit

FLAGGED = "将被标记为「前置条件丧失」"


@pytest.fixture
def today(settings):
    return today_in(settings.timezone)


def flags_recorded(session) -> int:
    return session.scalar(sa.select(sa.func.count()).select_from(AuditEvent)
                          .where(AuditEvent.action == "certification.prerequisite_lost"))


def test_the_preview_names_the_title_the_action_flags(login_as, session, admin, rules, today):
    ent = make_enterprise(session, admin, region_code="331002")
    base = grant(session, admin, rules, ent, "innovative_sme", today - timedelta(days=400))
    grant(session, admin, rules, ent, "specialized_sme", today - timedelta(days=300))
    session.commit()
    confirm, done = submit(login_as("officer", "331000"), f"/certifications/{base.id}/withdraw", {"effective_on": today})
    assert f"以该称号为前置条件的专精特新中小企业{FLAGGED}" in confirm and done.status_code == 302
    assert titles_of(session, ent)["specialized_sme"].prerequisite_lost and flags_recorded(session) == 1


def test_a_title_already_flagged_is_neither_promised_nor_flagged_again(login_as, session, admin, rules, today):
    ent = make_enterprise(session, admin, region_code="331002")
    base = grant(session, admin, rules, ent, "innovative_sme", today - timedelta(days=400))
    specialized = grant(session, admin, rules, ent, "specialized_sme", today - timedelta(days=300))
    specialized.prerequisite_lost = True  # flagged before (an earlier title ended)
    session.commit()
    confirm, done = submit(login_as("officer", "331000"), f"/certifications/{base.id}/withdraw", {"effective_on": today})
    assert FLAGGED not in confirm and done.status_code == 302
    assert flags_recorded(session) == 0
