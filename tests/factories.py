"""Factories: sensible defaults, overrides by keyword, flush, return."""

from __future__ import annotations

import itertools
from datetime import date

from sqlalchemy.orm import Session
from stdnum.cn import uscc as stdnum_uscc

from registry.domain.actors import Actor
from registry.enterprises.models import Enterprise
from registry.enterprises.services import record_annual_report, register_enterprise
from registry.policies.rules import Rules
from registry.titles.models import Certification
from registry.titles.services import grant_certification
from tests.conftest import NOW

_serial = itertools.count(1)


def make_uscc(region: str = "331002", serial: int | None = None) -> str:
    """Return a valid enterprise USCC registered in `region`."""
    n = next(_serial) if serial is None else serial
    body = f"91{region}MA{n:07d}"[:17]
    body = body[:8] + "".join("0123456789ABCDEFGHJKLMNPQRTUWXY"[int(c)] if c.isdigit() else c for c in body[8:])
    return body + stdnum_uscc.calc_check_digit(body)


def make_enterprise(session: Session, actor: Actor, **overrides: object) -> Enterprise:
    """Register an enterprise in 椒江区 (台州) unless told otherwise."""
    region = str(overrides.get("region_code", "331002"))
    data = {"uscc": make_uscc(region), "name": f"测试企业{next(_serial)}有限公司", "region_code": region,
            "contact_email": "contact@example.com", **overrides}
    enterprise, _ = register_enterprise(session, actor=actor, data=data, at=NOW)
    return enterprise


def grant(session: Session, actor: Actor, rules: Rules, enterprise: Enterprise, tier: str,
          on: date, **kwargs: object) -> Certification:
    """Grant a title with the checks on, recorded on a day it had happened (NOW's day, or `on` if later).

    Setup only: the guard against future-dated grants is tested through the services themselves.
    """
    kwargs.setdefault("today", max(on, NOW.date()))
    return grant_certification(session, actor=actor, rules=rules, enterprise_id=enterprise.id, tier=tier,
                               recognized_on=on, at=NOW, **kwargs)


def report(session: Session, actor: Actor, enterprise: Enterprise, year: int, today: date | None = None,
           **figures: object) -> None:
    """Record an annual report for `year`, filed on 1 March of the next year unless told (`submitted_on`),
    recorded on `today` (default: NOW's day, or the filing day if later — setup only)."""
    data = {"submitted_on": date(year + 1, 3, 1), **figures}
    day = today or max(NOW.date(), data["submitted_on"])  # type: ignore[type-var]
    record_annual_report(session, actor=actor, enterprise_id=enterprise.id, year=year, data=data, at=NOW, today=day)


def leading_title(session: Session, actor: Actor, rules: Rules, **overrides: object) -> Certification:
    """A 重庆 领军企业 title (cq_leading, which declares periodic reports) granted on 2026-03-01, committed."""
    firm = make_enterprise(session, actor, region_code="500103", **overrides)
    cert = grant(session, actor, rules, firm, "cq_leading", date(2026, 3, 1))
    session.commit()
    return cert
