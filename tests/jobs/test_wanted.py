"""The scan's SQL statement of the wanted reminder rows equals the Python one, on SQLite and PostgreSQL.

registry/reminders/wanted.py restates in SQL what reminders.wanted_rows(reminders.collect(...))
decides, so that the nightly scan does not load the roster. These tests hold the two together, for
every kind declared with a statement (registry/reminders/kinds.py `in_sql`), on a roster with every
kind of deadline, several policies, a title whose policy is no longer loaded, a renewal and a
filing, over days that cross each kind's window.
"""

from datetime import timedelta

import pytest
import sqlalchemy as sa

from registry.domain.lifecycle import Event
from registry.enterprises.services import record_change_report
from registry.reminders import kinds, wanted
from registry.reminders import services as reminders
from registry.reminders.models import Reminder, ReminderStatus
from registry.titles.models import Certification
from registry.titles.services import EventInput, apply_event
from tests.conftest import NOW, d
from tests.factories import grant, make_enterprise, report
from tests.jobs.conftest import scan

DAYS = ("2026-03-25", "2026-04-30", "2026-05-01", "2026-05-20", "2026-06-03", "2026-06-16", "2026-07-20",
        "2026-08-26", "2026-09-08", "2026-10-09", "2027-04-01", "2027-05-02")


@pytest.fixture
def roster(session, admin, rules):
    """Titles of four policies, reports filed and not, open change reports, a title of an unloaded policy."""
    late = make_enterprise(session, admin)
    report(session, admin, late, 2024, revenue=10_000_000)
    grant(session, admin, rules, late, "innovative_sme", d("2023-06-15"))
    grant(session, admin, rules, late, "specialized_sme", d("2024-01-10"))
    filed = make_enterprise(session, admin)
    for year in (2023, 2024, 2025):
        report(session, admin, filed, year, revenue=10_000_000)
    renewed = grant(session, admin, rules, filed, "innovative_sme", d("2023-09-01"))
    champion = make_enterprise(session, admin)
    report(session, admin, champion, 2022, revenue=500_000_000)
    grant(session, admin, rules, champion, "single_champion", d("2023-09-01"))
    hidden = make_enterprise(session, admin)
    grant(session, admin, rules, hidden, "innovative_sme", d("2023-01-10"))
    grant(session, admin, rules, hidden, "zj_hidden_champion", d("2024-06-10"))
    orphan = grant(session, admin, rules, make_enterprise(session, admin), "innovative_sme", d("2023-07-01"))
    orphan.policy_code = "national-2019"  # a policy file since removed: the latest innovative_sme rules apply
    for ent, occurred in ((late, "2026-07-01"), (champion, "2026-08-15"), (hidden, "2026-03-01")):
        record_change_report(session, actor=admin, rules=rules, enterprise_id=ent.id, kind="merger",
                             occurred_on=d(occurred), reported_on=None, details="合并", at=NOW,
                             today=d(occurred))  # issue 14: never dated after today
    session.flush()
    return {"renewed": renewed, "filed": filed}


def judged():
    """The codes of the kinds the scan judges in SQL."""
    return {k.code for k in kinds.in_sql()}


def python_view(session, rules, day):
    """What the Python path wants on `day` (in the kinds judged in SQL), and what it finds missing and stale."""
    want = {k for k in reminders.wanted_rows(reminders.collect(session, rules, day), day, NOW) if k[2] in judged()}
    ledger = session.execute(sa.select(Reminder.id, *(getattr(Reminder, k) for k in wanted.KEY),
                                       Reminder.status, Reminder.due_on)).all()
    settled = {tuple(r[1:6]) for r in ledger if not (r.status == ReminderStatus.RETIRED and r.due_on > day)}
    missing = {(k[0], k[1], k[2], k[4]) for k in want if k not in settled}
    stale = {r.id for r in ledger if r.status == ReminderStatus.PENDING and tuple(r[1:6]) not in want
             and r.kind in judged()}
    return want, missing, stale


def sql_view(session, rules, day):
    """The same three sets from services/wanted.py."""
    want = {tuple(r) for r in session.execute(sa.select(wanted.wanted(rules, day, kinds.in_sql())))}
    work = session.execute(wanted.work(rules, day, kinds.in_sql())).all()
    missing = {(r.subject_type, r.subject_id, r.kind, r.reference_on) for r in work if r.need == "missing"}
    return want, missing, {r.id for r in work if r.need == "stale"}


def test_sql_and_python_agree_on_every_day_while_the_ledger_fills(session, admin, rules, roster):
    seen = set()
    for day in map(d, DAYS):
        python, sql = python_view(session, rules, day), sql_view(session, rules, day)
        assert sql == python, day
        assert python[0], day  # something is wanted on each of these days
        seen |= {k[2] for k in python[0]}
        if day == d("2026-06-16"):  # a review passed and a report filed: stale rows to find
            for action in (Event.SUBMIT_REVIEW, Event.PASS_REVIEW):  # issue 14: a pass needs a review under way
                apply_event(session, actor=admin, rules=rules, certification_id=roster["renewed"].id,
                            event=EventInput(action, day), at=NOW, today=day)
            report(session, admin, roster["filed"], 2026, revenue=10_000_000, submitted_on=day, today=day)
            python = python_view(session, rules, day)
            assert python[2] and sql_view(session, rules, day) == python
        scan(session, rules, day)
        left = sql_view(session, rules, day)
        assert not left[1] and not left[2], day  # the scan left nothing to do for its day
    assert seen == judged()  # every statement declared was compared with its rule, none vacuously


def test_a_pending_row_of_an_ended_title_is_stale(session, admin, rules, roster):
    day = d("2026-05-20")
    scan(session, rules, day)
    ended = session.scalars(sa.select(Certification).where(Certification.policy_code == "national-2019")).one()
    pending = session.scalars(sa.select(Reminder.id).where(
        Reminder.subject_id == ended.id, Reminder.subject_type == "certification",
        Reminder.status == ReminderStatus.PENDING)).all()
    assert pending  # the unloaded policy's title was reminded by the latest rules
    apply_event(session, actor=admin, rules=rules, certification_id=ended.id,
                event=EventInput(Event.WITHDRAW, day), at=NOW)
    assert sql_view(session, rules, day + timedelta(days=1))[2] >= set(pending)


def test_provisional_deadlines_are_noticed_as_the_items_say(session, admin, rules, roster):
    seen = set()
    for day in map(d, DAYS):
        items = reminders.collect(session, rules, day).values()
        expected = any(i.provisional for i in items if i.kind in judged())
        assert bool(session.scalar(wanted.provisional(rules, day, kinds.in_sql()))) == expected, day
        seen.add(expected)
    assert seen == {True, False}  # 2027 has no holiday data in the test database
