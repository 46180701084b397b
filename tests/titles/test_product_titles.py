"""Product titles (单项冠军产品, issue 17 §2, docs/holders.md), SQLite and PostgreSQL.

2021 notice 一（二） (seed 001): "企业依据自身条件在单项冠军示范企业和单项冠军产品中择一申请……申请单项冠军
产品的,只能申请一个产品". A product title carries its product (name, sales, share of 主营); a 示范企业 and
a 产品 of one enterprise never coexist, in either order; one live product per enterprise; the
downgrade (示范企业 → 产品, seed 001 二) stays legal and carries the annual report's main product; a
product that ended leaves room for another; the database refuses a second live product on its own.
"""

from decimal import Decimal

import pytest
import sqlalchemy as sa

from registry.audit.models import AuditEvent
from registry.domain.errors import Conflict, IllegalTransition, RuleViolation
from registry.domain.lifecycle import Event, Status
from registry.titles.models import Certification
from registry.titles.services import EventInput, apply_event
from tests.conftest import NOW, d
from tests.factories import grant, make_enterprise, report


@pytest.fixture
def big(session, admin):
    """An enterprise above 4亿 (no 小巨人 prerequisite) with its 2023 figures and main product."""
    ent = make_enterprise(session, admin)
    report(session, admin, ent, 2023, revenue=900_000_000, main_business_revenue=800_000_000,
           main_product="高精度轴承", main_product_revenue=500_000_000)
    return ent


def event(session, admin, rules, cert, action, on):
    return apply_event(session, actor=admin, rules=rules, certification_id=cert.id, at=NOW, today=d(on),
                       event=EventInput(Event(action), d(on)))


def test_a_product_title_carries_its_product_and_the_trail_shows_it(session, admin, rules, big):
    cert = grant(session, admin, rules, big, "champion_product", d("2024-03-01"), product_name="高精度轴承",
                 product_sales=Decimal("500000000"), product_share=Decimal("62.5"))
    assert (cert.holder, cert.product_name, cert.product_sales, cert.product_share) == (
        "product", "高精度轴承", Decimal("500000000"), Decimal("62.5"))
    granted = session.scalars(sa.select(AuditEvent).where(AuditEvent.action == "certification.granted",
                                                          AuditEvent.entity_id == cert.id)).one()
    assert granted.changes["product_name"] == [None, "高精度轴承"] and granted.changes["holder"] == [None, "product"]


def test_without_a_name_the_annual_reports_main_product_is_taken_and_without_either_it_is_refused(
        session, admin, rules, big):
    assert grant(session, admin, rules, big, "champion_product", d("2024-03-01")).product_name == "高精度轴承"
    bare = make_enterprise(session, admin)
    report(session, admin, bare, 2023, revenue=900_000_000)
    with pytest.raises(RuleViolation, match="须填写产品名称"):
        grant(session, admin, rules, bare, "champion_product", d("2024-03-01"))
    assert not bare.certifications


def test_a_demonstration_title_carries_no_product(session, admin, rules, big):
    with pytest.raises(RuleViolation) as refused:
        grant(session, admin, rules, big, "single_champion", d("2024-03-01"), product_name="轴承")
    assert "不是产品称号" in refused.value.errors["product_name"][0]


def test_a_demonstration_title_and_a_product_never_coexist_in_either_order(session, admin, rules, big):
    grant(session, admin, rules, big, "single_champion", d("2024-03-01"))
    with pytest.raises(RuleViolation, match="已持有有效的制造业单项冠军示范企业称号，不再认定制造业单项冠军产品"):
        grant(session, admin, rules, big, "champion_product", d("2024-06-01"), product_name="另一产品")
    other = make_enterprise(session, admin)
    report(session, admin, other, 2023, revenue=900_000_000)
    grant(session, admin, rules, other, "champion_product", d("2024-03-01"), product_name="齿轮")
    with pytest.raises(RuleViolation, match="已持有有效的制造业单项冠军产品称号，不再认定制造业单项冠军示范企业"):
        grant(session, admin, rules, other, "single_champion", d("2024-06-01"))


def test_one_live_product_per_enterprise_then_another_after_it_ended(session, admin, rules, big):
    first = grant(session, admin, rules, big, "champion_product", d("2024-03-01"), product_name="高精度轴承")
    with pytest.raises(RuleViolation, match="只能申请一个产品"):
        grant(session, admin, rules, big, "champion_product", d("2024-06-01"), product_name="齿轮")
    with pytest.raises(Conflict, match="重复提交"):  # the same one twice (a double submit) is refused too
        grant(session, admin, rules, big, "champion_product", d("2024-03-01"), product_name="高精度轴承")
    event(session, admin, rules, first, "withdraw", "2025-01-10")
    second = grant(session, admin, rules, big, "champion_product", d("2025-01-10"), product_name="齿轮")
    assert second.status == Status.ACTIVE and first.status == Status.WITHDRAWN


def test_the_downgrade_replaces_the_demonstration_title_with_the_product(session, admin, rules, big):
    champion = grant(session, admin, rules, big, "single_champion", d("2024-03-01"))
    event(session, admin, rules, champion, "downgrade", "2027-02-15")
    product = next(c for c in big.certifications if c.tier == "champion_product")
    assert champion.status == Status.SUPERSEDED
    assert (product.holder, product.product_name, product.status) == ("product", "高精度轴承", Status.ACTIVE)
    with pytest.raises(IllegalTransition):  # and it cannot be done twice: the demonstration title has ended
        event(session, admin, rules, champion, "downgrade", "2027-02-16")


def test_the_database_keeps_one_live_product_per_enterprise(session, admin, rules, big):
    cert = grant(session, admin, rules, big, "champion_product", d("2024-03-01"), product_name="高精度轴承")
    session.flush()
    columns = {c: getattr(cert, c) for c in ("enterprise_id", "region_code", "tier", "programme", "policy_code",
                                             "status", "valid_from", "holder")}
    with pytest.raises(sa.exc.IntegrityError), session.begin_nested():
        session.execute(sa.insert(Certification).values(**columns, recognized_on=d("2024-06-01"), product_name="齿轮",
                                                        version=1, created_at=NOW, updated_at=NOW))
    with pytest.raises(sa.exc.IntegrityError), session.begin_nested():  # product figures only on a product title
        session.connection().execute(sa.text("UPDATE certifications SET holder = 'enterprise' WHERE id = :id"),
                                     {"id": cert.id})
    with pytest.raises(sa.exc.IntegrityError), session.begin_nested():
        session.connection().execute(sa.text("UPDATE certifications SET product_share = 100.01 WHERE id = :id"),
                                     {"id": cert.id})


def test_the_grant_page_takes_the_product_and_refuses_a_product_title_without_one(session, admin, login_as):
    from registry.cli.base import today_in
    from tests.web.pages import post, submit

    bare = make_enterprise(session, admin, name="台州无主导产品有限公司")
    report(session, admin, bare, 2023, revenue=900_000_000)
    session.commit()
    officer, on = login_as("officer", "331000"), today_in("Asia/Shanghai")
    url = f"/enterprises/{bare.id}/grant"
    refused = post(officer, url, {"tier": "champion_product", "recognized_on": on})
    assert refused.status_code == 422 and "须填写产品名称" in refused.get_data(as_text=True)
    _, done = submit(officer, url, {"tier": "champion_product", "recognized_on": on, "product_name": "精密齿轮",
                                    "product_sales": "50,000万", "product_share": "75%"})
    assert done.status_code == 302
    session.expire_all()
    title = session.scalars(sa.select(Certification).where(Certification.enterprise_id == bare.id)).one()
    assert (title.product_name, title.product_sales, title.product_share) == (
        "精密齿轮", Decimal("500000000.00"), Decimal("75.00"))
