"""Zones on the roster (issue 17 §2, docs/holders.md), SQLite and PostgreSQL (the session fixture's).

A 中外中小企业合作区 is registered as a zone of a city (工信部企业〔2024〕168号 第二条: 定位在地市级行政区划内),
granted, reminded of its annual development report by 31 March (第八条) — to the zone's managing body's
contact and its officer — given 30 working days for a change (第十条), and revoked for a ground of
第十一条; a 全国质量品牌提升示范区 revoked bars a new application for three years (第二十七条).
Zones and enterprises never take each other's titles; the database refuses a zone without its
managing body even when a service is bypassed; a city officer sees the city's zones only.
"""

import pytest
import sqlalchemy as sa
from stdnum.cn import uscc as stdnum_uscc

from registry.accounts.users import create_user
from registry.audit.models import AuditEvent
from registry.domain.errors import NotFound, RuleViolation
from registry.domain.lifecycle import Event, Status
from registry.enterprises.models import Enterprise
from registry.enterprises.queries import RosterFilter, roster_select
from registry.enterprises.services import get_enterprise, record_change_report, register_enterprise, update_enterprise
from registry.reminders.models import OutboxMessage, Reminder
from registry.titles.models import Ban
from registry.titles.services import EventInput, apply_event
from tests.conftest import NOW, d, officer_of
from tests.domain.test_policy_sources import in_seed
from tests.factories import grant, make_enterprise, report
from tests.jobs.conftest import scan

TAIZHOU = "331000"


def body_uscc(region: str, serial: int) -> str:
    """A valid USCC of a government body (机关: 11…) registered in `region`."""
    body = f"11{region}{serial:08d}"[:16] + "X"
    return body + stdnum_uscc.calc_check_digit(body)


def make_zone(session, actor, region=TAIZHOU, serial=1, **extra):
    data = {"uscc": body_uscc(region, serial), "name": f"台州中外中小企业合作区{serial}", "region_code": region,
            "holder_kind": "zone", "zone_type": "park", "managing_body": "台州湾新区管理委员会",
            "contact_name": "陈主任", "contact_email": "zone@tzwx.gov.cn", **extra}
    zone, _ = register_enterprise(session, actor=actor, data=data, at=NOW)
    return zone


def test_the_values_are_the_texts():
    for quote in ("定位在地市級行政區劃內", "每年3月31日前梳理總結合作區上一年度發展報告", "合作區有效期為五年",
                  "應當在發生變化起的30個工作日內", "(二)不報送上一年度發展報告的",
                  "撤銷認定的示范區,三年內不得再次提", "公示期不少于五個工作日"):
        assert in_seed("000", quote), quote


def test_a_zone_of_a_city_is_registered_granted_reminded_and_revoked(session, admin, rules):
    li = create_user(session, actor=admin, username="li", role="officer", region_code=TAIZHOU, email="li@tz.gov.cn",
                     password="long-enough", at=NOW, display_name="李科长")
    zone = make_zone(session, admin, officer_id=li.id)
    assert (zone.holder_kind, zone.zone_type, zone.region_code) == ("zone", "park", TAIZHOU)
    created = session.scalars(sa.select(AuditEvent).where(AuditEvent.action == "enterprise.created",
                                                          AuditEvent.entity_id == zone.id)).one()
    assert created.changes["holder_kind"] == [None, "zone"] and created.changes["managing_body"][1] == "台州湾新区管理委员会"

    cert = grant(session, admin, rules, zone, "cooperation_zone", d("2025-01-15"), document_no="工信部企业函〔2025〕1号")
    assert (cert.holder, cert.policy_code, cert.valid_until) == ("zone", "cooperation-zone-2024", d("2030-01-15"))
    assert cert.review_window_opens_on is None  # 第九条: the review follows expiry

    # 第八条: the 2025 development report by 31 March 2026 — reminded 30 days ahead, to the body and the officer
    scan(session, rules, d("2026-03-01"))
    armed = session.scalars(sa.select(Reminder).where(Reminder.subject_type == "enterprise",
                                                      Reminder.subject_id == zone.id,
                                                      Reminder.kind == "annual_update")).all()
    assert {(r.reference_on, r.milestone) for r in armed} == {(d("2026-03-31"), 30), (d("2026-03-31"), 7),
                                                              (d("2026-03-31"), 1)}
    mails = session.scalars(sa.select(OutboxMessage).where(OutboxMessage.reminder_id.in_([r.id for r in armed]))).all()
    assert {m.to_addr for m in mails} == {"zone@tzwx.gov.cn", "li@tz.gov.cn"}
    assert all(zone.name in m.subject for m in mails)
    to_body = next(m for m in mails if m.to_addr == "zone@tzwx.gov.cn").body_text
    assert "陈主任" in to_body and "请于 2026年3月31日 前报送 2025 年度发展报告" in to_body

    # 第十一条（二）: not filed → revoked for that ground, audited with its basis
    revoked = apply_event(session, actor=admin, rules=rules, certification_id=cert.id, at=NOW, today=d("2026-04-20"),
                          event=EventInput(Event.REVOKE, d("2026-04-20"), "annual_report_missing", "工信部企业函〔2026〕9号"))
    assert revoked.status == Status.REVOKED and revoked.ended_on == d("2026-04-20")
    trail = session.scalars(sa.select(AuditEvent).where(AuditEvent.action == "certification.revoke",
                                                        AuditEvent.entity_id == cert.id)).one()
    assert trail.reason_code == "annual_report_missing" and trail.region_code == TAIZHOU
    assert not session.scalars(sa.select(Ban).where(Ban.certification_id == cert.id)).all()  # 168号 sets no bar
    with pytest.raises(RuleViolation, match="没有撤销原因"):  # a ground of another text is not one of 168号's
        other = grant(session, admin, rules, make_zone(session, admin, serial=2), "cooperation_zone", d("2025-01-15"))
        apply_event(session, actor=admin, rules=rules, certification_id=other.id, at=NOW, today=d("2026-04-20"),
                    event=EventInput(Event.REVOKE, d("2026-04-20"), "review_not_qualified"))


def test_a_zones_change_is_due_in_30_working_days(session, admin, rules):
    zone = make_zone(session, admin)
    grant(session, admin, rules, zone, "cooperation_zone", d("2025-01-15"))
    change, _ = record_change_report(session, actor=admin, rules=rules, enterprise_id=zone.id, kind="rename",
                                     occurred_on=d("2026-04-20"), reported_on=None, details="更名", at=NOW)
    # 30 working days from 20 April 2026, 劳动节 (1–5 May) not counted: 3 June (the calendar of the database)
    assert change.deadline_on == d("2026-06-03")


def test_zones_and_enterprises_never_take_each_others_titles(session, admin, rules):
    zone, firm = make_zone(session, admin), make_enterprise(session, admin)
    with pytest.raises(RuleViolation, match="只授予企业"):
        grant(session, admin, rules, zone, "innovative_sme", d("2025-03-01"))
    with pytest.raises(RuleViolation, match="只授予园区（区域）"):
        grant(session, admin, rules, firm, "cooperation_zone", d("2025-03-01"))
    with pytest.raises(RuleViolation, match="只授予园区（区域）"):
        grant(session, admin, rules, firm, "quality_brand_zone", d("2025-03-01"), check=False)  # never, even unchecked
    assert not zone.certifications and not firm.certifications


def test_a_revoked_demonstration_zone_is_barred_for_three_years(session, admin, rules):
    zone = make_zone(session, admin, zone_type="area", managing_body="椒江区人民政府")
    cert = grant(session, admin, rules, zone, "quality_brand_zone", d("2024-06-01"))
    assert cert.valid_until == d("2027-06-01") and cert.review_window_opens_on == d("2026-11-30")  # 183 days before
    apply_event(session, actor=admin, rules=rules, certification_id=cert.id, at=NOW, today=d("2025-05-06"),
                event=EventInput(Event.REVOKE, d("2025-05-06"), "weak_demonstration", "国市监质发〔2025〕1号"))
    ban = session.scalars(sa.select(Ban).where(Ban.certification_id == cert.id)).one()
    assert (ban.uscc, ban.ends_on, ban.blocks) == (zone.uscc, d("2028-05-06"), "programme")
    with pytest.raises(RuleViolation, match="禁止申报期"):
        grant(session, admin, rules, zone, "quality_brand_zone", d("2028-05-06"))
    assert grant(session, admin, rules, zone, "quality_brand_zone", d("2028-05-07")).status == Status.ACTIVE


def test_bad_zone_records_are_refused_by_name_and_change_nothing(session, admin):
    before = session.scalar(sa.select(sa.func.count()).select_from(Enterprise))
    with pytest.raises(RuleViolation) as missing:
        make_zone(session, admin, managing_body="", zone_type=None)
    assert set(missing.value.errors) == {"managing_body", "zone_type"}
    with pytest.raises(RuleViolation) as sized:
        make_zone(session, admin, serial=3, size_class="small")
    assert "园区（区域）不填写企业规模" in sized.value.errors["size_class"][0]
    with pytest.raises(RuleViolation, match="企业不填写管理机构"):
        make_enterprise(session, admin, managing_body="某管委会")
    assert session.scalar(sa.select(sa.func.count()).select_from(Enterprise)) == before


def test_the_database_refuses_a_zone_without_its_managing_body(session, admin):
    """The CHECK holds where a write path forgets the service (plain SQL on the connection)."""
    zone = make_zone(session, admin)
    session.flush()
    for change in ("managing_body = NULL", "zone_type = NULL", "size_class = 'small'", "holder_kind = 'product'",
                   "holder_kind = 'enterprise'"):
        with pytest.raises(sa.exc.IntegrityError), session.begin_nested():
            session.connection().execute(sa.text(f"UPDATE enterprises SET {change} WHERE id = :id"), {"id": zone.id})


def test_an_update_keeps_the_shape_and_a_record_with_titles_keeps_its_kind(session, admin, rules):
    zone = make_zone(session, admin)
    updated, _ = update_enterprise(session, actor=admin, enterprise_id=zone.id, version=zone.version, at=NOW,
                                   data={"managing_body": "台州湾新区管委会（更名）", "holder_kind": ""})
    assert updated.holder_kind == "zone" and updated.managing_body == "台州湾新区管委会（更名）"  # blank kind: unchanged
    with pytest.raises(RuleViolation, match="园区（区域）须填写管理机构"):
        update_enterprise(session, actor=admin, enterprise_id=zone.id, version=zone.version, at=NOW,
                          data={"managing_body": None})
    grant(session, admin, rules, zone, "cooperation_zone", d("2025-01-15"))
    with pytest.raises(RuleViolation, match="不能变更登记类型"):
        update_enterprise(session, actor=admin, enterprise_id=zone.id, version=zone.version, at=NOW,
                          data={"holder_kind": "enterprise", "zone_type": None, "managing_body": None})
    plain = make_enterprise(session, admin)  # no titles: an enterprise registered by mistake becomes a zone
    moved, _ = update_enterprise(session, actor=admin, enterprise_id=plain.id, version=plain.version, at=NOW,
                                 data={"holder_kind": "zone", "zone_type": "area", "managing_body": "某区政府"})
    assert moved.holder_kind == "zone"


def test_a_city_officer_sees_the_citys_zones_only_and_the_roster_filters_by_kind(session, admin, rules):
    ours, theirs = make_zone(session, admin), make_zone(session, admin, region="330100", serial=4)
    firm = make_enterprise(session, admin)
    grant(session, admin, rules, ours, "cooperation_zone", d("2025-01-15"))
    taizhou = officer_of(TAIZHOU)
    assert get_enterprise(session, taizhou, ours.id).id == ours.id
    with pytest.raises(NotFound):
        get_enterprise(session, taizhou, theirs.id)

    def roster(**kw):
        return set(session.scalars(roster_select(RosterFilter(region=TAIZHOU, **kw), d("2026-06-01"))
                                   .with_only_columns(Enterprise.id)))

    assert ours.id in roster(holder="zone") and theirs.id not in roster(holder="zone")
    assert firm.id in roster(holder="enterprise") and ours.id not in roster(holder="enterprise")
    assert roster(holder="zone", tier="cooperation_zone") == {ours.id}
    report(session, admin, firm, 2025, revenue=900_000_000, main_product="轴承")
    assert firm.id not in roster(holder="product")
