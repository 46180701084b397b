"""Pipeline scenarios: 台州 enterprises climbing to 小巨人, officers at each level, a batch with quotas."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy.orm import Session

from registry.domain.actors import Actor
from registry.enterprises.models import Enterprise
from registry.pipeline.models import Batch
from registry.pipeline.services import apply, create_batch, record_opinion
from registry.policies.rules import Rules
from tests.conftest import NOW, d, officer_of
from tests.factories import grant, make_enterprise, report

TODAY = d("2026-06-01")


@dataclass(frozen=True)
class Officers:
    """One actor per review level for 台州 (椒江区 → 台州市 → 浙江省 → 工信部), and 杭州."""

    district: Actor
    city: Actor
    province: Actor
    ministry: Actor
    hangzhou: Actor

    def at(self, level: str) -> Actor:
        """Return the officer acting at `level`."""
        return getattr(self, level)


@pytest.fixture
def officers(admin: Actor) -> Officers:
    return Officers(district=officer_of("331002"), city=officer_of("331000"), province=officer_of("330000"),
                    ministry=admin, hangzhou=officer_of("330100"))


GOOD = {  # 小巨人 附件3 专业化 (主营 80 %) and the 重点小巨人 conditions of 112号 (seed 001: R&D ≥ 4 % both years)
    2023: dict(revenue=Decimal("50000000"), main_business_revenue=Decimal("40000000"), rd_expense=Decimal("2000000")),
    2024: dict(revenue=Decimal("60000000"), main_business_revenue=Decimal("48000000"), rd_expense=Decimal("2400000")),
    2025: dict(revenue=Decimal("70000000"), main_business_revenue=Decimal("56000000"), rd_expense=Decimal("2800000"),
               employees=120, rd_staff=20, debt_ratio=Decimal("45.00"), invention_patents=3,
               audit_report_code="ZJ2025-0001", audit_firm="台州某会计师事务所"),
}


def giant_candidate(session: Session, admin: Actor, rules: Rules, region: str = "331002", *,
                    specialized: bool = True, figures: dict[int, dict] | None = None, **fields: object) -> Enterprise:
    """An enterprise holding 创新型 and 专精特新 (valid through 2027) with three years of reports."""
    enterprise = make_enterprise(session, admin, region_code=region, size_class="small",
                                 founded_on=date(2012, 3, 1), **fields)
    grant(session, admin, rules, enterprise, "innovative_sme", d("2023-12-01"))
    if specialized:
        grant(session, admin, rules, enterprise, "specialized_sme", d("2024-01-10"))
    for year, values in (figures or GOOD).items():
        report(session, admin, enterprise, year, **values)
    return enterprise


def giant_batch(session: Session, rules: Rules, officers: Officers, quotas: dict[str, int] | None = None,
                deadlines: dict[str, str] | None = None, name: str = "2026年第一批") -> Batch:
    """A 小巨人 batch organised by the province, 台州 limited to 2 city-level recommendations."""
    return create_batch(session, actor=officers.province, rules=rules, tier="little_giant", year=2026, name=name,
                        quotas={"331000": 2} if quotas is None else quotas,
                        deadlines=deadlines or {"district": "2026-06-20", "city": "2026-06-30",
                                                "province": "2026-07-10", "ministry": "2026-08-31"},
                        today=TODAY, at=NOW)


def applied(session: Session, rules: Rules, officers: Officers, batch: Batch, enterprise: Enterprise):
    """Record the enterprise's application (by the province office)."""
    return apply(session, actor=officers.province, rules=rules, batch_id=batch.id, enterprise_id=enterprise.id,
                 today=TODAY, at=NOW)


def opinion(session: Session, rules: Rules, officers: Officers, application, level: str,
            decision: str = "recommend", note: str | None = None, on: date = TODAY):
    """Record `level`'s opinion through that level's officer."""
    return record_opinion(session, actor=officers.at(level), rules=rules, application_id=application.id,
                          level=level, decision=decision, note=note, on=on, at=NOW)


def climb(session: Session, rules: Rules, officers: Officers, application, levels=("district", "city", "province",
                                                                                  "ministry")) -> None:
    """Recommend the application at each of `levels` in turn."""
    for level in levels:
        opinion(session, rules, officers, application, level)
