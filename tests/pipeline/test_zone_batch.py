"""A zone programme through the same pipeline (issue 17, docs/holders.md), SQLite and PostgreSQL: a
全国质量品牌提升示范区 batch takes a zone's application, climbs province → ministry, is publicised for at
least five working days (第二十二条: 公示期不少于五个工作日) and grants the zone its title; an enterprise
cannot apply for it."""

import pytest

from registry.domain.errors import RuleViolation
from registry.domain.lifecycle import Status
from registry.pipeline.services import apply, create_batch, finalise_batch, start_publicity
from tests.conftest import NOW, d
from tests.enterprises.test_zone_holders import make_zone
from tests.factories import make_enterprise
from tests.pipeline.conftest import TODAY, climb


def test_a_zone_batch_is_publicised_five_working_days_and_grants_the_zone(session, admin, rules, officers):
    batch = create_batch(session, actor=officers.province, rules=rules, tier="quality_brand_zone", year=2026,
                         name="2026年示范区", quotas={}, deadlines={"province": "2026-06-20", "ministry": "2026-07-10"},
                         today=TODAY, at=NOW)
    zone = make_zone(session, admin, serial=81, zone_type="park", managing_body="台州经济开发区管理委员会")
    application = apply(session, actor=officers.province, rules=rules, batch_id=batch.id, enterprise_id=zone.id,
                        today=TODAY, at=NOW)
    with pytest.raises(RuleViolation, match="只授予园区（区域）"):
        apply(session, actor=officers.province, rules=rules, batch_id=batch.id,
              enterprise_id=make_enterprise(session, admin).id, today=TODAY, at=NOW)
    climb(session, rules, officers, application, levels=("province", "ministry"))

    def publicise(ends):
        return start_publicity(session, actor=officers.province, batch_id=batch.id, starts_on=d("2026-06-08"),
                               ends_on=d(ends), published_where="市场监管总局网站", at=NOW, rules=rules)

    with pytest.raises(RuleViolation, match="公示期不少于5个工作日"):
        publicise("2026-06-11")  # Mon–Thu: four working days
    publicise("2026-06-12")  # Mon–Fri: five
    finalise_batch(session, actor=officers.province, rules=rules, batch_id=batch.id, published_on=d("2026-06-15"),
                   document_no="国市监质发〔2026〕1号", today=d("2026-06-15"), at=NOW)
    title = zone.certifications[0]
    assert (title.tier, title.holder, title.status, title.valid_until) == (
        "quality_brand_zone", "zone", Status.ACTIVE, d("2029-06-15"))
