"""Yearly lists and recommendation channels through the one pipeline (criteria → pool → batch → decision).

重点"小巨人" (浙经信企业〔2021〕112号, seed 001) is selected among existing 小巨人 on its own
conditions; the 中央企业 channel of the 2021 单项冠军 notice takes at most three per 中央企业 with the
earlier batches' 培育企业 outside the quota; the 234号 associations recommend at most 2 隐形冠军企业.
"""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from registry.audit.models import AuditEvent
from registry.domain.errors import RuleViolation
from registry.pipeline.models import Application, ApplicationStatus
from registry.pipeline.services import apply, create_batch, finalise_batch, pool_members, run_pool, start_publicity
from registry.titles.models import Certification
from tests.conftest import NOW, d
from tests.factories import grant, make_enterprise
from tests.pipeline.conftest import GOOD, TODAY, climb, giant_candidate

LOW_RD = {**GOOD, 2025: {**GOOD[2025], "rd_expense": GOOD[2025]["rd_expense"] - 1}}  # just under 4 % in 2025


def key_candidate(session, admin, rules, **kw):
    holder = giant_candidate(session, admin, rules, **kw)
    grant(session, admin, rules, holder, "little_giant", d("2025-03-01"))
    return holder


def test_key_little_giant_runs_criteria_pool_batch_decision(session, admin, rules, officers):
    """112号: "从工业和信息化部已认定的专精特新“小巨人”企业中择优遴选"; "近 2 年研发经费支出占营业收入
    比重每年均不低于 4%" — 4 % itself passes, just under fails; a 专精特新 without 小巨人 is not considered."""
    good = key_candidate(session, admin, rules)  # R&D exactly 4 % in 2024 and 2025, 主营 80 %
    weak = key_candidate(session, admin, rules, figures=LOW_RD)
    giant_candidate(session, admin, rules)  # 专精特新 only: not among the 小巨人
    pool = run_pool(session, actor=officers.city, rules=rules, tier="key_little_giant", year=2026, on=TODAY, at=NOW)
    assert (pool.policy_code, pool.evaluated) == ("zhejiang-key-little-giant-2021", 2)
    members = pool_members(session, actor=officers.city, pool_id=pool.id)
    assert [m.enterprise_id for m in members] == [good.id]
    results = {r["id"]: r for r in members[0].evaluation["results"]}
    assert results["rd_each_year"]["verdict"] == "pass" and results["specialisation"]["verdict"] == "pass"
    assert weak.id not in {m.enterprise_id for m in members}

    batch = create_batch(session, actor=officers.province, rules=rules, tier="key_little_giant", year=2026,
                         name="2026年重点小巨人", quotas={},
                         deadlines={"city": "2026-06-30", "province": "2026-07-10", "ministry": "2026-08-31"},
                         today=TODAY, at=NOW)
    application = apply(session, actor=officers.province, rules=rules, batch_id=batch.id, enterprise_id=good.id,
                        today=TODAY, at=NOW, channel="city", channel_unit=" 台州市 ")
    assert (application.channel, application.channel_unit, application.current_level) == ("city", "台州市", "city")
    climb(session, rules, officers, application, ("city", "province", "ministry"))
    start_publicity(session, actor=officers.province, batch_id=batch.id, starts_on=d("2026-06-05"),
                    ends_on=d("2026-06-12"), published_where="浙江省经济和信息化厅网站", at=NOW)
    finalise_batch(session, actor=officers.province, rules=rules, batch_id=batch.id, published_on=d("2026-06-13"),
                   today=d("2026-06-13"), at=NOW)
    assert application.status == ApplicationStatus.GRANTED
    listed = session.get(Certification, application.certification_id)
    assert (listed.tier, listed.enterprise_id) == ("key_little_giant", good.id)
    assert listed.terms[-1].valid_until == d("2029-06-13")  # the support period (assumed 3 years)
    created = session.scalars(sa.select(AuditEvent).where(AuditEvent.entity_type == "application",
                                                          AuditEvent.action == "application.created")).one()
    assert created.changes["channel"] == [None, "city"] and created.changes["channel_unit"] == [None, "台州市"]


def champion_batch(session, rules, officers):
    """A 2022 单项冠军 batch (the 2021 notice in force), organised by the ministry."""
    return create_batch(session, actor=officers.ministry, rules=rules, tier="single_champion", year=2022,
                        name="第七批", quotas={}, deadlines={"province": "2022-07-30", "ministry": "2022-08-31"},
                        today=d("2022-06-01"), at=NOW)


def central(session, rules, officers, batch, enterprise, unit="中国某某集团有限公司", outside=False):
    return apply(session, actor=officers.ministry, rules=rules, batch_id=batch.id, enterprise_id=enterprise.id,
                 today=d("2022-06-02"), at=NOW, channel="central_enterprise", channel_unit=unit,
                 outside_quota=outside)


def test_a_central_enterprise_recommends_three_not_four(session, admin, rules, officers):
    """2021 notice 一（五）: "中央企业每家推荐数量不超过 3 家。前三批单项冠军培育企业满足申请条件并提出申请的,
    不占各推荐单位名额"."""
    batch = champion_batch(session, rules, officers)
    assert batch.policy_code == "single-champion-2021"
    firms = [make_enterprise(session, admin, region_code="110101") for _ in range(7)]
    three = [central(session, rules, officers, batch, firms[i]) for i in range(3)]
    assert all(a.channel == "central_enterprise" and not a.outside_quota for a in three)
    before = session.scalar(sa.select(sa.func.count()).select_from(Application))
    with pytest.raises(RuleViolation) as refused:
        central(session, rules, officers, batch, firms[3])  # the fourth
    assert "中国某某集团有限公司" in refused.value.errors["channel_unit"][0] and "3 家" in refused.value.errors["channel_unit"][0]
    assert session.scalar(sa.select(sa.func.count()).select_from(Application)) == before  # nothing written
    outside = central(session, rules, officers, batch, firms[3], outside=True)  # an earlier batch's 培育企业
    assert outside.outside_quota
    assert central(session, rules, officers, batch, firms[4], unit="中国另一集团有限公司").channel_unit  # its own three
    three[0].status = ApplicationStatus.REJECTED  # a rejection frees its place
    session.flush()
    assert central(session, rules, officers, batch, firms[5]).id
    with pytest.raises(RuleViolation):
        central(session, rules, officers, batch, firms[6])


@pytest.mark.parametrize(("channel", "unit", "outside", "field", "words"), [
    ("regional", "中国某某集团有限公司", False, "channel", "没有推荐渠道 regional"),
    ("central_enterprise", "   ", False, "channel_unit", "中央企业"),
    ("central_enterprise", "集" * 129, False, "channel_unit", "128"),
    (None, "中国某某集团有限公司", False, "channel", "未选择推荐渠道"),
    (None, None, True, "channel", "未选择推荐渠道"),
])
def test_a_bad_channel_is_refused_by_name_and_changes_nothing(session, admin, rules, officers, channel, unit,
                                                               outside, field, words):
    batch = champion_batch(session, rules, officers)
    firm = make_enterprise(session, admin, region_code="110101")
    with pytest.raises(RuleViolation) as refused:
        apply(session, actor=officers.ministry, rules=rules, batch_id=batch.id, enterprise_id=firm.id,
              today=d("2022-06-02"), at=NOW, channel=channel, channel_unit=unit, outside_quota=outside)
    assert words in refused.value.errors[field][0]
    assert session.scalar(sa.select(sa.func.count()).select_from(Application)) == 0


def test_an_association_recommends_two_hidden_champions_and_none_outside_the_quota(session, admin, rules, officers):
    """234号 四（一）: "隐形冠军企业名单(每家行业协会不超过 2 家" — and the text names nobody outside it."""
    batch = create_batch(session, actor=officers.province, rules=rules, tier="zj_hidden_champion", year=2026,
                         name="2026年隐形冠军", quotas={},
                         deadlines={"district": "2026-06-20", "city": "2026-06-30", "province": "2026-07-10"},
                         today=TODAY, at=NOW)
    firms = [make_enterprise(session, admin, region_code="331002") for _ in range(3)]

    def via_association(firm, outside=False):
        return apply(session, actor=officers.province, rules=rules, batch_id=batch.id, enterprise_id=firm.id,
                     today=TODAY, at=NOW, channel="association", channel_unit="浙江省某行业协会",
                     outside_quota=outside)

    via_association(firms[0])
    via_association(firms[1])
    with pytest.raises(RuleViolation, match="上限 2 家"):
        via_association(firms[2])
    with pytest.raises(RuleViolation, match="没有不占名额的情形"):
        via_association(firms[2], outside=True)


def test_the_api_takes_the_channel_and_refuses_the_third_association_place(api_as, session, admin, settings):
    from registry.cli.base import today_in

    today = today_in(settings.timezone)
    province = api_as("officer", "330000")
    deadlines = {"district": "2099-01-01", "city": "2099-01-02", "province": "2099-01-03"}
    made = province.post("/api/v1/batches", json={"tier": "zj_hidden_champion", "year": today.year,
                                                  "name": "隐形冠军", "quotas": {}, "deadlines": deadlines})
    assert made.status_code == 201, made.get_json()
    url = f"/api/v1/batches/{made.get_json()['id']}/applications"
    firms = [make_enterprise(session, admin, region_code="331002") for _ in range(3)]
    session.commit()
    body = {"channel": "association", "channel_unit": "浙江省某行业协会"}
    for firm in firms[:2]:
        taken = province.post(url, json={"enterprise_id": firm.id, **body})
        assert taken.status_code == 201, taken.get_json()
        assert (taken.get_json()["channel"], taken.get_json()["channel_unit"]) == ("association", "浙江省某行业协会")
        assert taken.get_json()["outside_quota"] is False
    third = province.post(url, json={"enterprise_id": firms[2].id, **body})
    assert third.status_code == 422 and "channel_unit" in str(third.get_json()) and "上限 2 家" in str(third.get_json())
    unknown = province.post(url, json={"enterprise_id": firms[2].id, "channel": "x" * 33, "channel_unit": "协会"})
    assert unknown.status_code == 422 and "channel" in str(unknown.get_json())
    plain = province.post(url, json={"enterprise_id": firms[2].id})  # no channel: as before
    assert plain.status_code == 201 and plain.get_json()["channel"] is None


def test_the_application_page_and_the_trail_name_the_channel_in_chinese(login_as, session, admin, rules, officers):
    from tests.web.pages import page

    batch = champion_batch(session, rules, officers)
    firm = make_enterprise(session, admin, region_code="331002")
    made = central(session, rules, officers, batch, firm, outside=True)
    session.commit()
    client = login_as("officer", "330000")
    html = page(client, f"/applications/{made.id}")
    assert "中央企业推荐：中国某某集团有限公司（不占名额）" in html
    trail = page(client, f"/enterprises/{firm.id}")
    assert "推荐渠道" in trail and "中央企业推荐" in trail and "不占推荐单位名额" in trail
    assert "central_enterprise" not in trail and "outside_quota" not in trail


def test_the_batch_page_registers_an_application_through_an_association(login_as, session, admin, rules, officers):
    """234号 四（一）: at most 2 隐形冠军企业 per association — on the page, the third is refused and named."""
    from tests.web.fixtures import csrf_from

    batch = create_batch(session, actor=officers.province, rules=rules, tier="zj_hidden_champion", year=2026,
                         name="页面隐形冠军", quotas={},
                         deadlines={"district": "2099-01-01", "city": "2099-01-02", "province": "2099-01-03"},
                         today=TODAY, at=NOW)
    plain = create_batch(session, actor=officers.province, rules=rules, tier="little_giant", year=2026,
                         name="页面小巨人", quotas={}, deadlines={"district": "2099-01-01"}, today=TODAY, at=NOW)
    firms = [make_enterprise(session, admin, region_code="331002") for _ in range(3)]
    session.commit()
    client = login_as("officer", "330000")
    url = f"/batches/{batch.id}"
    board = client.get(url).get_data(as_text=True)
    assert "省级行业协会推荐" in board and "设区市经信委补充推荐" in board and "推荐单位" in board
    assert "推荐渠道" not in client.get(f"/batches/{plain.id}").get_data(as_text=True)  # 小巨人 has none

    def register(firm, unit="浙江省模具行业协会", channel="association"):
        token = csrf_from(client.get(url).get_data(as_text=True))
        response = client.post(f"{url}/applications", data={"csrf_token": token, "uscc": firm.uscc,
                                                            "channel": channel, "channel_unit": unit},
                               follow_redirects=True)
        assert response.status_code == 200
        return response.get_data(as_text=True)

    assert "已登记申请 #" in register(firms[0]) and "已登记申请 #" in register(firms[1])
    third = register(firms[2])
    assert "未办理：行业协会“浙江省模具行业协会”通过“省级行业协会推荐”的推荐已达上限 2 家" in third
    assert "推荐渠道：不是有效的选择" in register(firms[2], channel="central_enterprise")
    made = session.scalars(sa.select(Application).where(Application.batch_id == batch.id)).all()
    assert sorted(a.enterprise_id for a in made) == [firms[0].id, firms[1].id]


def test_the_tiers_api_describes_lists_channels_and_reports(api_as):
    items = {t["code"]: t for t in api_as("auditor", "330000").get("/api/v1/tiers").get_json()["items"]}
    assert items["key_little_giant"]["list_kind"] == "yearly_selection" and items["little_giant"]["list_kind"] is None
    central = next(c for c in items["champion_product"]["channels"] if c["code"] == "central_enterprise") \
        if items["champion_product"]["policy_code"] == "single-champion-2021" else None
    pool = items["zj_hidden_champion_pool"]
    assert pool["list_kind"] == "pool" and pool["annual_update_due"] == "03-31"
    assert {"code": "association", "name": "省级行业协会推荐", "unit": "行业协会", "quota": 10, "outside_quota": ""} \
        in pool["channels"]
    assert {r["code"]: (r["every"], r["due"], r["days_after"]) for r in items["cq_leading"]["reports"]} == {
        "one_plan": ("once", None, 90), "quarterly_progress": ("quarter", None, 15),
        "yearly_evaluation": ("year", "12-31", None)}
    assert central is None  # the 2023 notice governs 单项冠军 today: the 2021 channel is not in force
