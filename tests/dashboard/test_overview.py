"""The dashboard's overdue annual updates: the latest passed due date, this year's or last year's."""

from registry.dashboard.overview import overdue_annual_updates
from tests.conftest import d
from tests.factories import grant, make_enterprise, report


def _listed(session, rules, today):
    rows, _ = overdue_annual_updates(session, rules, today)
    return {o.certification.enterprise.name: o.reason for o in rows}


def test_before_this_years_due_day_last_years_missed_update_is_still_overdue(session, admin, rules):
    lagging = make_enterprise(session, admin, region_code="331002", name="去年未更新企业")
    grant(session, admin, rules, lagging, "innovative_sme", d("2026-06-01"))
    punctual = make_enterprise(session, admin, region_code="331002", name="按期更新企业")
    grant(session, admin, rules, punctual, "innovative_sme", d("2026-06-01"))
    report(session, admin, punctual, 2026)
    session.commit()
    # 2027's update (figures of 2026) was due 30 April 2027: on 29 Feb 2028 it is the one overdue.
    listed = _listed(session, rules, d("2028-02-29"))
    assert "按期更新企业" not in listed
    assert listed["去年未更新企业"].startswith("缺少 2026 年度信息（截止 2027-04-30")
    # On the due day itself nothing is overdue yet; the day after, 2027's update is.
    assert "去年未更新企业" not in _listed(session, rules, d("2027-04-30"))
    assert "去年未更新企业" in _listed(session, rules, d("2027-05-01"))
    # Recognised in 2026, it owed nothing on 1 March 2027 (the 2026 update is for titles of 2025 and earlier).
    assert "去年未更新企业" not in _listed(session, rules, d("2027-03-01"))
