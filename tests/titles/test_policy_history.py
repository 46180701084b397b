"""Titles from before the current texts register under the version in force on their recognition
date and are reviewed under the version whose text covers them; a ban bars only what its reason
declares. On SQLite and PostgreSQL."""

import pytest
import sqlalchemy as sa

from registry.domain.errors import RuleViolation
from registry.domain.lifecycle import Event, Status
from registry.titles.models import Ban
from registry.titles.services import EventInput, apply_event
from tests.conftest import NOW, d
from tests.factories import grant, make_enterprise


def event(session, admin, rules, cert, action, on, **kw):
    return apply_event(session, actor=admin, rules=rules, certification_id=cert.id,
                       event=EventInput(Event(action), d(on), **kw), at=NOW)


def terms(cert):
    return [(t.valid_from, t.valid_until, t.policy_code) for t in cert.terms]


def test_a_2019_little_giant_registers_and_its_2022_review_follows_63(session, admin, rules):
    ent = make_enterprise(session, admin)
    giant = grant(session, admin, rules, ent, "little_giant", d("2019-10-15"), document_no="工信厅企业函〔2019〕")
    assert (giant.policy_code, giant.valid_until) == ("national-2018", d("2022-10-15"))  # 3 years (assumed)
    event(session, admin, rules, giant, "submit_review", "2022-09-01")
    event(session, admin, rules, giant, "pass_review", "2022-10-10")  # 63号 in force since 2022-08-01
    assert terms(giant) == [(d("2019-10-15"), d("2022-10-15"), "national-2018"),
                            (d("2022-10-16"), d("2025-10-15"), "national-2022")]
    assert giant.policy_code == "national-2022"


def test_a_little_giant_reviewed_before_63_stays_under_its_own_version(session, admin, rules):
    ent = make_enterprise(session, admin)
    giant = grant(session, admin, rules, ent, "little_giant", d("2019-06-01"))
    event(session, admin, rules, giant, "submit_review", "2022-04-01")
    event(session, admin, rules, giant, "pass_review", "2022-05-20")
    assert terms(giant)[-1] == (d("2022-06-02"), d("2025-06-01"), "national-2018")


def test_a_2016_champion_registers_and_is_reviewed_under_each_text(session, admin, rules):
    ent = make_enterprise(session, admin)
    champion = grant(session, admin, rules, ent, "single_champion", d("2016-11-01"))  # no 小巨人 then
    assert (champion.policy_code, champion.valid_until) == ("single-champion-2016", d("2019-11-01"))
    event(session, admin, rules, champion, "submit_review", "2019-09-01")
    event(session, admin, rules, champion, "pass_review", "2019-10-20")
    event(session, admin, rules, champion, "submit_review", "2022-08-01")
    event(session, admin, rules, champion, "pass_review", "2022-10-01")  # the 2021 notice covers it
    assert [t[2] for t in terms(champion)] == ["single-champion-2016", "single-champion-2016",
                                               "single-champion-2021"]
    assert terms(champion)[-1][:2] == (d("2022-11-02"), d("2025-11-01"))


def test_a_2021_provincial_specialized_registers_without_an_innovative_title(session, admin, rules):
    ent = make_enterprise(session, admin)
    specialized = grant(session, admin, rules, ent, "specialized_sme", d("2021-05-01"))
    assert (specialized.policy_code, specialized.valid_until) == ("national-2018", d("2024-05-01"))
    event(session, admin, rules, specialized, "submit_review", "2024-03-01")
    event(session, admin, rules, specialized, "pass_review", "2024-04-20")
    assert terms(specialized)[-1] == (d("2024-05-02"), d("2027-05-01"), "national-2022")
    with pytest.raises(RuleViolation) as err:  # after 63号 a 专精特新 needs a valid 创新型
        grant(session, admin, rules, make_enterprise(session, admin), "specialized_sme", d("2022-09-01"))
    assert "创新型" in err.value.errors["tier"][0]


def test_a_national_fraud_ban_bars_the_ladder_not_zhejiang(session, admin, rules):
    ent = make_enterprise(session, admin)
    innovative = grant(session, admin, rules, ent, "innovative_sme", d("2022-09-01"))
    zj = grant(session, admin, rules, ent, "zj_hidden_champion", d("2022-10-01"))
    event(session, admin, rules, innovative, "revoke", "2023-05-01", reason_code="fraud")
    assert zj.status == Status.ACTIVE  # the revocation ends the ladder's titles, not Zhejiang's
    ban = session.scalars(sa.select(Ban).where(Ban.uscc == ent.uscc)).one()
    assert (ban.blocks, ban.tier, ban.programme, ban.ladder) == ("ladder", "innovative_sme", "national", "national")
    assert ban.ends_on == d("2026-05-01")
    for tier in ("innovative_sme", "single_champion"):  # the whole national ladder, to its last day
        with pytest.raises(RuleViolation) as err:
            grant(session, admin, rules, ent, tier, d("2026-05-01"))
        assert "2026-05-01" in err.value.errors["uscc"][0]
    grant(session, admin, rules, ent, "innovative_sme", d("2026-05-02"))  # the day after: free again
    event(session, admin, rules, zj, "withdraw", "2025-04-01")
    again = grant(session, admin, rules, ent, "zj_hidden_champion", d("2025-06-01"))  # inside the ban: not barred
    assert again.status == Status.ACTIVE


def test_a_sichuan_ban_bars_sichuan_only_and_a_legacy_ban_bars_all(session, admin, rules):
    ent = make_enterprise(session, admin, region_code="510104")
    sc = grant(session, admin, rules, ent, "sc_specialized_sme", d("2024-01-10"))
    event(session, admin, rules, sc, "revoke", "2025-03-01", reason_code="fraud")
    ban = session.scalars(sa.select(Ban).where(Ban.uscc == ent.uscc)).one()
    assert (ban.blocks, ban.programme) == ("programme", "sichuan_specialized")
    with pytest.raises(RuleViolation):
        grant(session, admin, rules, ent, "sc_specialized_sme", d("2026-01-01"))
    grant(session, admin, rules, ent, "innovative_sme", d("2026-01-01"))  # a national title is not barred
    legacy = make_enterprise(session, admin)
    session.add(Ban(uscc=legacy.uscc, reason_code="fraud", reason="弄虚作假", starts_on=d("2025-01-01"),
                    ends_on=d("2028-01-01"), created_at=NOW))
    session.flush()
    session.expire_all()
    assert session.scalars(sa.select(Ban.blocks).where(Ban.uscc == legacy.uscc)).one() == "all"
    with pytest.raises(RuleViolation):  # a ban from before 0008 keeps barring everything
        grant(session, admin, rules, legacy, "zj_hidden_champion", d("2026-01-01"))


def test_sichuan_accident_revocation_carries_no_ban(session, admin, rules):
    ent = make_enterprise(session, admin, region_code="510104")
    sc = grant(session, admin, rules, ent, "sc_specialized_sme", d("2024-01-10"))
    event(session, admin, rules, sc, "revoke", "2025-03-01", reason_code="major_accident")
    assert session.scalars(sa.select(Ban).where(Ban.uscc == ent.uscc)).all() == []
