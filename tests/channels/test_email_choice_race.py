"""Identical e-mail switches at once (issue 18 §8 under concurrency): one change, one audit event."""

import sqlalchemy as sa

from registry.accounts.models import User
from registry.accounts.users import create_user
from registry.audit.models import AuditEvent
from registry.channels import services
from registry.domain.actors import Actor, Role, system_actor
from tests.conftest import NOW
from tests.racing import committed, race

N = 6
ADMIN = system_actor("cli", "tests")


def test_six_identical_switches_at_once_change_the_choice_once_and_record_it_once(committed_factory):
    with committed_factory() as session:
        user = create_user(session, actor=ADMIN, username="li-race", role="officer", region_code="331000",
                           email="li@gov.example.cn", password="Correct-horse-9", at=NOW)
        session.commit()
        me = Actor(kind="user", name=user.username, role=Role.OFFICER, region_code="331000", user_id=user.id)

    def switch_off(_: int) -> str:
        return committed(committed_factory, lambda s: services.set_email(s, actor=me, enabled=False, at=NOW), "ok")

    assert race(switch_off, range(N)) == ["ok"] * N
    with committed_factory() as session:
        assert session.scalar(sa.select(User.wants_reminder_email).where(User.id == me.user_id)) is False
        actions = session.scalars(sa.select(AuditEvent.action).where(
            AuditEvent.entity_type == "user", AuditEvent.entity_id == me.user_id,
            AuditEvent.action.like("channel.email%"))).all()
    assert actions == ["channel.email_off"], actions


def test_opposite_switches_at_once_leave_a_history_that_adds_up(committed_factory):
    """On, off, on, … all at once, committed in whatever order the locks let them: every recorded change starts
    from what the previous one left (none records a switch to what was already set), and the last one recorded
    is the choice that stays."""
    with committed_factory() as session:
        user = create_user(session, actor=ADMIN, username="li-flip", role="officer", region_code="331000",
                           email="li@gov.example.cn", password="Correct-horse-9", at=NOW)
        session.commit()
        me = Actor(kind="user", name=user.username, role=Role.OFFICER, region_code="331000", user_id=user.id)
        start = user.wants_reminder_email

    def switch(n: int) -> str:
        return committed(committed_factory, lambda s: services.set_email(s, actor=me, enabled=n % 2 == 0, at=NOW),
                         "ok")

    assert race(switch, range(2 * N)) == ["ok"] * (2 * N)
    with committed_factory() as session:
        final = session.scalar(sa.select(User.wants_reminder_email).where(User.id == me.user_id))
        changes = session.scalars(sa.select(AuditEvent.changes).where(
            AuditEvent.entity_type == "user", AuditEvent.entity_id == me.user_id,
            AuditEvent.action.like("channel.email%")).order_by(AuditEvent.id)).all()
    state = start
    for change in changes:
        old, new = change["wants_reminder_email"]
        assert (old, new) == (state, not state), changes
        state = new
    assert state == final and 1 <= len(changes) <= 2 * N
