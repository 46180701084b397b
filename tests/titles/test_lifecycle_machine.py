"""Issue 14, point 6: a hypothesis state machine drives the lifecycle through the services on a real
database (SQLite and PostgreSQL, via the `session` fixture) with random grants, events, reports,
change reports and days — future dates and dates before recognition included — and checks after every
step what must always hold:

- no two terms of a title overlap, and they follow each other without a gap (next = previous end + 1);
- every term ends where the Civil Code puts it under its policy (validity_end / next_term_end);
- no 复核通过/复核未通过 without a submission of the review before it in the same term;
- no event dated after the day it was recorded on, before the title's recognition or before an earlier one;
- no grant inside a ban that was in force;
- a refused step changes nothing, and every title's event has its audit event (the chain verifies).

Each example runs in a SAVEPOINT rolled back afterwards, so examples do not see each other.
"""

from __future__ import annotations

import os
from datetime import date, timedelta

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, Phase, settings
from hypothesis import event as statistic
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from jobs.scan import SCAN_ACTOR as SCAN
from jobs.scan import (
    ScanReport,
    end_missed_reviews,
    flag_missed_annual_updates,
    flag_unreported_changes,
    lift_ended_bans,
)
from registry.audit import trail as audit
from registry.audit.models import AuditEvent
from registry.domain import deadlines, guards
from registry.domain.errors import DomainError
from registry.domain.lifecycle import Event, Status
from registry.enterprises.models import AnnualReport, ChangeReport
from registry.enterprises.services import mark_change_reported, record_annual_report, record_change_report
from registry.titles.models import Ban, Certification, CertificationEvent
from registry.titles.services import EventInput, apply_event, grant_certification
from tests.conftest import NOW
from tests.factories import make_enterprise

TIERS = ("innovative_sme", "specialized_sme", "zj_hidden_champion")
ACTIONS = (Event.SUBMIT_REVIEW, Event.PASS_REVIEW, Event.FAIL_REVIEW, Event.REVOKE, Event.WITHDRAW, Event.EXPIRE,
           Event.SUPERSEDE)
REASONS = ("fraud", "major_accident", "review_missed", None)
START = date(2024, 1, 2)
LAST = date(2029, 12, 31)
#: days before today (negative: after it), often right at the boundary
BACK = st.one_of(st.integers(-2, 2), st.integers(-30, 700))
#: enough to matter, under a minute for both backends together
MACHINE_SETTINGS = settings(max_examples=int(os.environ.get("LIFECYCLE_EXAMPLES", "20")), stateful_step_count=30, deadline=None, derandomize=True,
                            suppress_health_check=list(HealthCheck), database=None)


def at_of(day: date):
    return NOW + timedelta(days=(day - NOW.date()).days)


def make_machine(session, rules, admin):  # noqa: C901  one class, built per test for the fixtures
    class Lifecycle(RuleBasedStateMachine):
        """The registry as an office uses it, day after day."""

        def __init__(self) -> None:
            super().__init__()
            self.savepoint = session.begin_nested()
            self.today = START
            self.enterprises = [make_enterprise(session, admin) for _ in range(2)]
            self.recorded_on: dict[int, date] = {}  # certification_event id -> the day it was recorded
            self.granted = 0  # preconditions read the machine, never the database (reproducible draws)
            self.unreported: list[int] = []

        def teardown(self) -> None:
            self.savepoint.rollback()
            session.expire_all()

        # ------------------------------------------------------------ helpers

        def audit_count(self) -> int:
            return session.scalar(sa.select(sa.func.count()).select_from(AuditEvent))

        def attempt(self, change) -> bool:  # noqa: ANN001
            """Run one use case in a SAVEPOINT; a refusal must change nothing."""
            before = self.audit_count()
            nested = session.begin_nested()
            try:
                change()
                session.flush()
            except DomainError:
                assert self.audit_count() == before, "a refused step wrote to the audit trail"
                nested.rollback()
                return False
            except BaseException:
                nested.rollback()
                raise
            nested.commit()
            self.note_new_events()
            return True

        def note_new_events(self) -> None:
            for ev in session.scalars(sa.select(CertificationEvent).where(
                    CertificationEvent.id.not_in(list(self.recorded_on) or [0]))):
                self.recorded_on[ev.id] = self.today

        def titles(self) -> list[Certification]:
            return list(session.scalars(sa.select(Certification).order_by(Certification.id)))

        @initialize(back_a=st.integers(0, 500), back_b=st.integers(0, 1000), filed=st.booleans())
        def titles_to_start_with(self, back_a: int, back_b: int, filed: bool) -> None:
            """Each example starts with a live title on each enterprise (grants can then fail or add more)."""
            first, second = self.enterprises
            if filed:
                for year in (2022, 2023):
                    self.attempt(lambda y=year: record_annual_report(
                        session, actor=admin, enterprise_id=first.id, year=y, at=at_of(self.today), today=self.today,
                        data={"submitted_on": min(self.today, date(y + 1, 3, 1)), "employees": 50, "rd_staff": 10}))
            for ent, tier, back in ((first, "innovative_sme", back_a), (second, "zj_hidden_champion", back_b)):
                self.granted += self.attempt(lambda e=ent, t=tier, b=back: grant_certification(
                    session, actor=admin, rules=rules, enterprise_id=e.id, tier=t,
                    recognized_on=self.today - timedelta(days=b), at=at_of(self.today), today=self.today))
            assert self.granted == 2

        # ------------------------------------------------------------ time

        @rule(days=st.sampled_from([1, 2, 7, 30, 90, 200, 400]))
        def advance(self, days: int) -> None:
            self.today = min(LAST, self.today + timedelta(days=days))
            # the daily scan's lifecycle steps (its reminders are tested elsewhere and cost most of its time)
            report, kw = ScanReport(self.today), dict(today=self.today, at=at_of(self.today))
            end_missed_reviews(session, actor=SCAN, rules=rules, report=report, **kw)
            flag_missed_annual_updates(session, actor=SCAN, rules=rules, report=report, **kw)
            flag_unreported_changes(session, actor=SCAN, rules=rules, report=report, **kw)
            lift_ended_bans(session, actor=SCAN, report=report, **kw)
            session.flush()
            self.note_new_events()

        # ------------------------------------------------------------ facts

        @rule(which=st.integers(0, 1), tier=st.sampled_from(TIERS), back=BACK)
        def grant(self, which: int, tier: str, back: int) -> None:
            on = self.today - timedelta(days=back)
            ent = self.enterprises[which]
            done = self.attempt(lambda: grant_certification(
                session, actor=admin, rules=rules, enterprise_id=ent.id, tier=tier, recognized_on=on,
                at=at_of(self.today), today=self.today))
            self.granted += done
            if on > self.today:
                assert not done, f"a grant dated {on} was recorded on {self.today}"

        @precondition(lambda self: self.granted > 0)
        @rule(pick=st.integers(0, 50), action=st.sampled_from(ACTIONS), back=BACK,
              reason=st.sampled_from(REASONS))
        def event(self, pick: int, action: Event, back: int, reason: str | None) -> None:
            titles = self.titles()
            cert = titles[pick % len(titles)]
            on = self.today - timedelta(days=back)
            status, terms = cert.status, len(cert.terms)
            done = self.attempt(lambda: apply_event(
                session, actor=admin, rules=rules, certification_id=cert.id, at=at_of(self.today), today=self.today,
                event=EventInput(action, on, reason_code=reason if action == Event.REVOKE else None,
                                 document_no="测〔2026〕1号")))
            statistic(f"{action.value} {'accepted' if done else 'refused'}")
            if done:
                assert on <= self.today and on >= cert.recognized_on
                if action in (Event.PASS_REVIEW, Event.FAIL_REVIEW):
                    assert status == Status.UNDER_REVIEW
                if action == Event.PASS_REVIEW:
                    assert len(cert.terms) == terms + 1
            else:
                session.refresh(cert)
                assert (cert.status, len(cert.terms)) == (status, terms)

        @precondition(lambda self: self.granted > 0)
        @rule(pick=st.integers(0, 50), offset=st.one_of(st.integers(-2, 2), st.integers(-30, 130)),
              outcome=st.sampled_from([Event.PASS_REVIEW, Event.FAIL_REVIEW, None]), later=st.integers(0, 60))
        def review(self, pick: int, offset: int, outcome: Event | None, later: int) -> None:
            """Submit a review near its window (days pass to get there), then maybe decide it."""
            titles = [c for c in self.titles() if c.status == Status.ACTIVE]
            if not titles:
                return
            cert = titles[pick % len(titles)]
            pick = self.titles().index(cert)
            tier = rules.policies.tier(cert.tier, policy_code=cert.policy_code)
            window = guards.review_window(tier, cert.valid_until, rules.calendar)
            if window is None:
                return
            on = window.opens + timedelta(days=offset)
            self.today = min(LAST, max(self.today, on))
            self.event(pick, Event.SUBMIT_REVIEW, (self.today - on).days, None)
            if outcome is not None:
                self.today = min(LAST, self.today + timedelta(days=later))
                self.event(pick, outcome, later, None)

        @rule(which=st.integers(0, 1), coded=st.booleans())
        def file_on_time(self, which: int, coded: bool) -> None:
            """File last year's figures by this year's due date (30 April), as most enterprises do."""
            filed = min(self.today, date(self.today.year, 4, 28))
            self.attempt(lambda: record_annual_report(
                session, actor=admin, enterprise_id=self.enterprises[which].id, year=self.today.year - 1,
                at=at_of(self.today), today=self.today,
                data={"submitted_on": filed, "employees": 50, "rd_staff": 10, "revenue": 10_000_000,
                      "audit_report_code": "ZJ0001" if coded else None}))

        @rule(which=st.integers(0, 1), back_year=st.integers(-1, 3), filed_back=st.integers(-10, 400),
              employees=st.integers(0, 300), rd_staff=st.integers(0, 320), coded=st.booleans(),
              debt=st.sampled_from(["-0.01", "0", "55.5", "100", "100.01"]))
        def annual_report(self, which: int, back_year: int, filed_back: int, employees: int, rd_staff: int,
                          coded: bool, debt: str) -> None:
            year = self.today.year - back_year
            filed = self.today - timedelta(days=filed_back)
            ent = self.enterprises[which]
            done = self.attempt(lambda: record_annual_report(
                session, actor=admin, enterprise_id=ent.id, year=year, at=at_of(self.today), today=self.today,
                data={"submitted_on": filed, "employees": employees, "rd_staff": rd_staff, "debt_ratio": debt,
                      "revenue": 10_000_000, "main_business_revenue": 9_000_000,
                      "audit_report_code": "ZJ0001" if coded else None}))
            if done:
                stored = session.scalar(sa.select(AnnualReport).where(AnnualReport.enterprise_id == ent.id,
                                                                      AnnualReport.year == year))
                assert stored.year <= self.today.year and stored.submitted_on <= self.today
                if stored.rd_staff is not None and stored.employees is not None:
                    assert stored.rd_staff <= stored.employees
                assert stored.debt_ratio is None or 0 <= stored.debt_ratio <= 100

        @rule(which=st.integers(0, 1), back=st.integers(-10, 200), report_after=st.one_of(st.none(),
                                                                                          st.integers(0, 100)))
        def change(self, which: int, back: int, report_after: int | None) -> None:
            occurred = self.today - timedelta(days=back)
            reported = None if report_after is None else occurred + timedelta(days=report_after)
            done = self.attempt(lambda: record_change_report(
                session, actor=admin, rules=rules, enterprise_id=self.enterprises[which].id, kind="rename",
                occurred_on=occurred, reported_on=reported, details="", at=at_of(self.today), today=self.today))
            if done:
                assert occurred <= self.today and (reported is None or reported <= self.today)
                if reported is None:
                    self.unreported.append(session.scalar(sa.select(sa.func.max(ChangeReport.id))))

        @precondition(lambda self: bool(self.unreported))
        @rule(back=BACK)
        def mark_reported(self, back: int) -> None:
            change = session.get(ChangeReport, self.unreported[0])
            on = self.today - timedelta(days=back)
            if self.attempt(lambda: mark_change_reported(session, actor=admin, rules=rules,
                                                         change_report_id=change.id, reported_on=on,
                                                         at=at_of(self.today), today=self.today)):
                assert change.occurred_on <= on <= self.today
                self.unreported.pop(0)

        # ------------------------------------------------------------ what always holds

        @invariant()
        def terms_follow_the_civil_code_without_overlap(self) -> None:
            for cert in self.titles():
                terms = sorted(cert.terms, key=lambda t: t.seq)
                first = rules.policies.tier(cert.tier, policy_code=terms[0].policy_code)
                assert terms[0].valid_until == deadlines.validity_end(first, terms[0].valid_from)
                for prev, nxt in zip(terms, terms[1:], strict=False):
                    assert nxt.valid_from == prev.valid_until + timedelta(days=1), "terms overlap or leave a gap"
                    rule_ = rules.policies.tier(cert.tier, policy_code=nxt.policy_code)
                    assert nxt.valid_until == deadlines.next_term_end(rule_, prev.valid_until)
                assert cert.valid_until == terms[-1].valid_until

        @invariant()
        def events_are_dated_in_order_and_never_ahead(self) -> None:
            for cert in self.titles():
                events = sorted(cert.events, key=lambda e: e.id)
                last = cert.recognized_on
                submitted = False
                for ev in events:
                    assert ev.effective_on >= cert.recognized_on, "an event before recognition"
                    assert ev.effective_on <= self.recorded_on.get(ev.id, self.today), "an event dated ahead"
                    assert ev.effective_on >= last, "an event before the title's previous one"
                    last = max(last, ev.effective_on)
                    if ev.action == Event.SUBMIT_REVIEW.value:
                        submitted = True
                    if ev.action in (Event.PASS_REVIEW.value, Event.FAIL_REVIEW.value):
                        assert submitted, "a review result without a submission"
                        submitted = False

        @invariant()
        def no_grant_inside_a_ban(self) -> None:
            bans = session.scalars(sa.select(Ban)).all()
            for cert in self.titles():
                for ban in bans:
                    if ban.uscc == cert.enterprise.uscc and ban.certification_id != cert.id:
                        lifted = ban.lifted_on is not None and ban.lifted_on <= cert.recognized_on
                        granted_after = cert.id > ban.certification_id
                        assert not (granted_after and ban.starts_on <= cert.recognized_on <= ban.ends_on
                                    and not lifted), f"granted on {cert.recognized_on} inside a ban to {ban.ends_on}"

        @invariant()
        def every_title_event_is_audited(self) -> None:
            logged = session.execute(sa.select(AuditEvent.action, sa.func.count()).where(
                AuditEvent.entity_type == "certification").group_by(AuditEvent.action)).all()
            audited = dict(logged)
            happened = dict(session.execute(sa.select(CertificationEvent.action, sa.func.count())
                                            .group_by(CertificationEvent.action)).all())
            for action, n in happened.items():
                name = "certification.granted" if action == "grant" else f"certification.{action}"
                assert audited.get(name, 0) == n, (action, n, audited.get(name))

    return Lifecycle


def test_the_lifecycle_holds_its_invariants_under_random_use(session, rules, admin):
    machine = make_machine(session, rules, admin)
    run_state_machine_as_test(machine, settings=MACHINE_SETTINGS)
    assert audit.verify(session).ok


def test_the_machine_catches_a_broken_guard(session, rules, admin, monkeypatch):
    """A machine that cannot fail proves nothing: with the future-date guard switched off it must fail."""
    from registry.domain import guards

    monkeypatch.setattr(guards, "check_not_future", lambda *a, **k: None)
    machine = make_machine(session, rules, admin)
    with pytest.raises(AssertionError):
        run_state_machine_as_test(machine, settings=settings(MACHINE_SETTINGS, max_examples=40,
                                                             phases=[Phase.generate]))  # no shrinking
