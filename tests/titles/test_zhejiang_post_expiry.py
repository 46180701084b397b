"""Zhejiang's post-expiry review end to end with the shipped policy (issue 14 §4, 浙经信企创〔2016〕234号
四（四）: "有效期为3年,到期后由相关协会组织开展评估,省经信委进行复核……复核合格的,重新予以确认"), on
SQLite and PostgreSQL: the daily scan keeps the title through its post-expiry window (first and last
day), a review submitted and passed inside it re-confirms the title from the day after expiry, and the
day after the window closes without a review the scan ends it (effective the day after expiry)."""

from datetime import timedelta

import pytest

from registry.domain.errors import RuleViolation
from registry.domain.guards import review_window
from registry.domain.lifecycle import Event, Status
from registry.titles.services import EventInput, apply_event
from tests.conftest import NOW, d
from tests.domain.test_policy_sources import in_seed
from tests.factories import grant, make_enterprise
from tests.jobs.conftest import scan

ONE = timedelta(days=1)


def zhejiang_title(session, admin, rules):
    cert = grant(session, admin, rules, make_enterprise(session, admin, region_code="330106"), "zj_hidden_champion",
                 d("2022-06-15"))
    tier = rules.policies.tier(cert.tier, policy_code=cert.policy_code)
    window = review_window(tier, cert.valid_until, rules.calendar)
    return cert, window


def event(session, admin, rules, cert, action, on):
    return apply_event(session, actor=admin, rules=rules, certification_id=cert.id, at=NOW, today=NOW.date(),
                       event=EventInput(Event(action), on))


def test_the_shipped_zhejiang_window_follows_expiry(session, admin, rules):
    assert in_seed("001", "到期后由相关协会组织开展评估,省经信委进行复核")
    cert, window = zhejiang_title(session, admin, rules)
    # 有效期为3年 from 2022-06-15 (民法典: the corresponding day) ends 2025-06-15
    assert cert.policy_code == "zhejiang-hidden-champion-2016" and cert.valid_until == d("2025-06-15")
    # 180 days after 2025-06-15 is Friday 2025-12-12 (a working day: not moved)
    assert (window.opens, window.closes, window.after_expiry, window.provisional) == (
        d("2025-06-16"), d("2025-12-12"), True, False)


@pytest.mark.parametrize("day", ["first", "last"])
def test_the_scan_keeps_the_title_through_its_window(session, admin, rules, day):
    cert, window = zhejiang_title(session, admin, rules)
    scan(session, rules, window.opens if day == "first" else window.closes)
    assert cert.status == Status.ACTIVE and cert.ended_on is None


def test_the_scan_ends_the_title_the_day_after_the_window_without_a_review(session, admin, rules):
    cert, window = zhejiang_title(session, admin, rules)
    report = scan(session, rules, window.closes + ONE)
    assert cert.status == Status.EXPIRED and cert.ended_on == cert.valid_until + ONE  # 234号: not revoked
    assert any("到期" in line for line in report.transitions)


@pytest.mark.parametrize("day", ["first", "last"])
def test_a_review_passed_inside_the_window_re_confirms_the_title(session, admin, rules, day):
    cert, window = zhejiang_title(session, admin, rules)
    expired_on = cert.valid_until
    submitted = window.opens if day == "first" else window.closes
    scan(session, rules, submitted)
    event(session, admin, rules, cert, "submit_review", submitted)
    scan(session, rules, window.closes + ONE)  # under review: the scan leaves it alone after the window
    assert cert.status == Status.UNDER_REVIEW
    event(session, admin, rules, cert, "pass_review", window.closes + timedelta(days=10))
    scan(session, rules, window.closes + timedelta(days=11))
    assert cert.status == Status.ACTIVE and cert.ended_on is None
    assert (cert.valid_from, cert.valid_until) == (expired_on + ONE, d("2028-06-15"))
    assert [t.seq for t in cert.terms] == [1, 2] and cert.terms[1].valid_from == expired_on + ONE


@pytest.mark.parametrize(("when", "said"), [("before", "尚未开始"), ("after", "已经结束")])
def test_a_review_outside_the_window_is_refused_with_its_dates(session, admin, rules, when, said):
    cert, window = zhejiang_title(session, admin, rules)
    day = window.opens - ONE if when == "before" else window.closes + ONE
    with pytest.raises(RuleViolation) as err:
        event(session, admin, rules, cert, "submit_review", day)
    message = " ".join(err.value.errors["action"])
    assert said in message and f"复核窗口为 {window.opens} 至 {window.closes}" in message
    assert "有效期届满后评估复核" in message
    assert cert.status == Status.ACTIVE
