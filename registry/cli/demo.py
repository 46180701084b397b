"""A realistic, deterministic Zhejiang demo roster (seed-demo); a rerun changes nothing.

Enterprises across all 11 cities with valid USCCs, every tier of the national ladder plus
single champions and Zhejiang hidden champions, titles in every status, some in their review
window, some annual updates overdue, some bans. Everything goes through the services, so the
audit trail shows the CLI as the actor and the rules hold (prerequisites, bans).
"""

from __future__ import annotations

import random
import secrets
from datetime import date, timedelta
from decimal import Decimal

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.orm import Session
from stdnum.cn import uscc as stdnum_uscc

from registry.accounts.models import User
from registry.accounts.users import create_user
from registry.cli.base import cli_actor, now, today_in
from registry.domain.actors import Actor
from registry.domain.errors import DomainError
from registry.domain.lifecycle import LIVE, Event, Status
from registry.enterprises.models import Enterprise
from registry.enterprises.services import record_annual_report, record_change_report, register_enterprise
from registry.pipeline import services as pipeline
from registry.pipeline.models import Batch
from registry.policies.rules import Rules, load_rules
from registry.regions.models import Region
from registry.titles.flags import mark_review_ineligible
from registry.titles.services import EventInput, apply_event, grant_certification

WORDS = ("精工", "华立", "宏达", "正泰", "海天", "明峰", "瑞丰", "东源", "恒信", "新锐", "金鹰", "银河",
         "天成", "永兴", "博远", "聚力", "卓越", "科达", "中瑞", "万向", "天台山", "东海", "雁荡", "西湖")
TRADES = ("机械", "电子", "新材料", "汽车零部件", "医疗器械", "阀门", "泵业", "模具", "光电", "智能装备",
          "精密铸造", "化工", "塑业", "电机", "传感器", "软件")
PRODUCTS = ("精密轴承", "液压阀门", "伺服电机", "光电传感器", "医用导管", "汽车刹车片", "工业泵", "精密模具")
#: (username, role, region, name, e-mail): every business role at province, city and district level, and
#: the three administrator roles (三员分立: three people, three e-mail addresses)
USERS = (("admin", "admin", "330000", "省中小企业处业务管理员", None),
         ("zj_officer", "officer", "330000", "省中小企业处业务人员", None),
         ("zj_leader", "leader", "330000", "省经信厅分管领导", None),
         ("auditor", "auditor", "330000", "省审计检查人员", None),
         ("tz_admin", "admin", "331000", "台州市经信局业务管理员", None),
         ("tz_officer", "officer", "331000", "台州市经信局业务人员", None),
         ("tz_leader", "leader", "331000", "台州市经信局分管领导", None),
         ("tz_auditor", "auditor", "331000", "台州市审计检查人员", None),
         ("hz_officer", "officer", "330100", "杭州市经信局业务人员", None),
         ("jj_officer", "officer", "331002", "椒江区经信局业务人员", None),
         ("jj_admin", "admin", "331002", "椒江区经信局业务管理员", None),
         ("jj_leader", "leader", "331002", "椒江区经信局分管领导", None),
         ("jj_auditor", "auditor", "331002", "椒江区审计检查人员", None),
         ("miit_officer", "officer", "000000", "工业和信息化部中小企业局业务人员（演示）", None),
         ("sysadmin", "sysadmin", "330000", "系统管理员", "sysadmin@demo.gov.cn"),
         ("secadmin", "secadmin", "330000", "安全管理员", "secadmin@demo.gov.cn"),
         ("auditadmin", "auditadmin", "330000", "审计管理员", "auditadmin@demo.gov.cn"))
#: the 服务专员 of an enterprise: the business officer of its city (never an inspector, a leader or an administrator)
SERVICE_ROLE = "officer"
#: GB/T 2260 districts of 台州 whose enterprises the pipeline scene uses
TAIZHOU = "3310"


def demo_uscc(district: str, n: int) -> str:
    """Return the n-th demo USCC registered in `district`."""
    body = f"91{district}MA{n:07d}"
    return body + stdnum_uscc.calc_check_digit(body)


def seed(session: Session, *, size: int, admin_password: str, today: date | None = None,
         if_empty: bool = False) -> str:
    """Create the demo users and roster; skip what exists."""
    today = today or today_in(current_app.config["REGISTRY"].timezone)
    if if_empty and session.scalar(sa.select(sa.func.count()).select_from(Enterprise)):
        return "数据库已有数据，跳过演示数据 / database not empty, demo skipped"
    users_made = _users(session, admin_password)
    rules = load_rules(session, current_app.extensions["registry.policies"])
    districts = session.scalars(sa.select(Region.code).where(
        Region.level == "district", Region.code.startswith("33")).order_by(Region.code)).all()
    officers = {u.region_code: u.id for u in session.scalars(sa.select(User).where(User.role == SERVICE_ROLE))}
    existing = set(session.scalars(sa.select(Enterprise.uscc)))
    made = 0
    for n in range(1, size + 1):
        rng = random.Random(n)  # one stream per enterprise: reruns and larger sizes agree
        district = districts[(n * 7919) % len(districts)]
        code = demo_uscc(district, n)
        if code in existing:
            continue
        _enterprise(session, rules, rng, n, district, code, today, officers)
        made += 1
        if made % 200 == 0:
            session.flush()
    scene = _pipeline(session, rules, today)
    password = (f"；演示用户密码（仅显示这一次）：{admin_password} / password for every demo user (shown once): "
                f"{admin_password}" if users_made else "；演示用户已存在，密码未变 / demo users exist, password unchanged")
    return (f"演示数据：新增企业 {made} 家（共 {size} 家），新增用户 {users_made} 个 / "
            f"demo: {made} enterprises and {users_made} users created{scene}{password}")


def size_class(revenue: Decimal) -> str | None:
    """The enterprise size of an industrial firm by its revenue (工信部联企业〔2011〕300号, 工业: 中型 2000万元及以上,
    小型 300万元及以上, 微型 300万元以下; 4亿元及以上 with 1000 people or more is large — no size class here)."""
    if revenue >= Decimal(400_000_000):
        return None
    if revenue >= Decimal(20_000_000):
        return "medium"
    return "small" if revenue >= Decimal(3_000_000) else "micro"


def employees_for(size: str | None, drawn: int) -> int:
    """Fold a drawn head count (30…900) into the band of the size class (same 300号: 中型 300人及以上,
    小型 20人及以上, 微型 20人以下; large 1000人及以上)."""
    low, span = {"medium": (300, 700), "small": (20, 280), "micro": (5, 15)}.get(size or "", (1000, 2000))
    return low + drawn % span


def random_password() -> str:
    """Return a fresh demo password: 20+ characters with upper and lower case, digits and a symbol."""
    return f"Demo-{secrets.token_urlsafe(12)}-{secrets.randbelow(90) + 10}"


def _users(session: Session, password: str) -> int:
    actor = cli_actor("seed-demo")
    made = 0
    for username, role, region, name, email in USERS:
        if session.scalar(sa.select(User.id).where(User.username == username)) is None:
            create_user(session, actor=actor, username=username, role=role, region_code=region,
                        email=email or f"{username}@demo.gov.cn", password=password, at=now(), display_name=name)
            made += 1
    return made


def _enterprise(session, rules, rng, n, district, code, today, officers) -> None:  # noqa: ANN001
    actor = cli_actor("seed-demo")
    name = f"{district[:4] in ('3310',) and '台州' or ''}{rng.choice(WORDS)}{rng.choice(TRADES)}{n}有限公司"
    officer = officers.get(district[:4] + "00") or officers.get("330000")
    data = {  # drawn in the same order as ever, so reruns and larger sizes agree
        "uscc": code, "name": name, "region_code": district, "industry_code": f"C{rng.randint(13, 43)}",
        "size_class": rng.choice(["medium", "small", "small", "micro"]),
        "founded_on": date(rng.randint(1995, 2018), rng.randint(1, 12), rng.randint(1, 28)),
        "contact_name": rng.choice("王李张刘陈杨赵黄周吴") + rng.choice(("伟", "芳", "娜", "敏", "静", "强", "磊")),
        "contact_email": f"contact{n}@demo-enterprise.cn", "contact_phone": f"0576-8{n:07d}"[:13],
        "officer_id": officer}
    height = rng.choices([1, 2, 3, 4], weights=[50, 30, 14, 6])[0]
    # champions are large: 4亿 and above they need no 小巨人 title (seed 001)
    revenue = Decimal(rng.randint(400, 1500) if height == 4 else rng.randint(8, 900)) * Decimal(1_000_000)
    data["size_class"] = size_class(revenue)  # the figures decide the size, not a second draw
    ent, _ = register_enterprise(session, actor=actor, at=now(), data=data)
    # every seventh firm is less specialised (65 % main business: under the 小巨人 70 % line); taken
    # from n, not the generator, so every other demo value stays as it was
    share = Decimal("0.65") if n % 7 == 3 else Decimal("0.85")
    # the main product and its share of main-business revenue, also from n: two firms in three record
    # it (every fifth of those under the 单项冠军 70 % line); the third leaves it to be verified by hand
    product = PRODUCTS[n % len(PRODUCTS)] if n % 3 else None
    product_share = Decimal("0.6") if n % 5 == 1 else Decimal("0.8")
    for year in range(today.year - 3, today.year):
        if year == today.year - 1 and today.month >= 5 and rng.random() < 0.12:
            continue  # this year's update missed: flagged below
        employees = employees_for(data["size_class"], rng.randint(30, 900))
        record_annual_report(session, actor=actor, enterprise_id=ent.id, year=year, at=now(), today=today, data={
            "revenue": revenue, "main_business_revenue": revenue * share,
            "rd_expense": (revenue * Decimal(rng.randint(2, 9)) / 100).quantize(Decimal("0.01")),
            "employees": employees, "rd_staff": rng.randint(5, min(120, employees)),  # never more than employees
            "debt_ratio": Decimal(rng.randint(20, 75)), "invention_patents": rng.randint(0, 30),
            "audit_report_code": f"ZJ{year}{n:06d}" if rng.random() < 0.8 else None,
            "audit_firm": "浙江某会计师事务所",
            # filed January to April of the next year — but never after today (a demo seeded in February)
            "submitted_on": min(date(year + 1, rng.randint(1, 4), rng.randint(1, 28)), today),
            "main_product": product,
            "main_product_revenue": (revenue * share * product_share).quantize(Decimal("0.01")) if product else None})
        revenue = (revenue * Decimal(rng.randint(95, 125)) / 100).quantize(Decimal("0.01"))
    _titles(session, rules, rng, ent, today, actor, height)
    if rng.random() < 0.05:
        occurred = today - timedelta(days=rng.randint(20, 200))
        record_change_report(session, actor=actor, rules=rules, enterprise_id=ent.id,
                             kind=rng.choice(["rename", "merger", "restructuring", "overseas_branch"]),
                             occurred_on=occurred, reported_on=None if rng.random() < 0.5 else occurred + timedelta(days=20),
                             details="演示：企业发生重大变化", at=now(), today=today)


def _titles(session, rules, rng, ent, today, actor, height) -> None:  # noqa: ANN001
    """Climb the ladder `height` rungs, then age the titles to today."""
    # national-2022 took effect on 2022-08-01; earlier titles belong to the previous regime
    start = today - timedelta(days=rng.randint(120, max(121, (today - date(2022, 8, 15)).days)))
    ladder = ["innovative_sme", "specialized_sme", "little_giant", "single_champion"][:height]
    if height >= 2 and rng.random() < 0.1:
        ladder.append("zj_hidden_champion")
    on = start
    for tier in ladder:
        if on > today:
            break
        try:
            cert = grant_certification(session, actor=actor, rules=rules, enterprise_id=ent.id, tier=tier,
                                       recognized_on=on, at=now(), today=today, batch=f"{on.year}年第{rng.randint(1, 2)}批",
                                       document_no=f"浙经信企业〔{on.year}〕{rng.randint(10, 300)}号",
                                       authority="浙江省经济和信息化厅")
        except DomainError:
            break
        _age(session, rules, rng, cert, today, actor)
        if tier == "single_champion" and cert.status in LIVE and rng.random() < 0.3:
            _try(lambda cid=cert.id, on=on: apply_event(session, actor=actor, rules=rules, certification_id=cid, at=now(),
                 today=today, event=EventInput(Event.DOWNGRADE, min(today, on + timedelta(days=400)),
                                               document_no="工信厅企业函〔2025〕降级", note="主导产品占比低于70%，按单项冠军产品复核")))
        on = on + timedelta(days=rng.randint(150, 400))
    if rng.random() < 0.04:
        live = [c for c in ent.certifications if c.status in LIVE]
        if live:
            target = rng.choice(live)  # a lower title's end flags the higher ones prerequisite_lost
            reason = rng.choice(["major_accident", "fraud", "serious_dishonesty"])
            if rules.policies.tier(target.tier, policy_code=target.policy_code).reason(reason):
                _try(lambda: apply_event(session, actor=actor, rules=rules, certification_id=target.id, at=now(),
                     today=today, event=EventInput(Event.REVOKE, max(target.valid_from, today - timedelta(
                         days=rng.randint(10, 300))), reason, "浙经信企业〔2026〕撤字1号", "演示撤销")))


def _try(change) -> bool:  # noqa: ANN001
    """Apply one demo event; one the guards refuse (e.g. dated before the title's last event) is skipped."""
    try:
        change()
    except DomainError:
        return False
    return True


def _age(session, rules, rng, cert, today, actor) -> None:  # noqa: ANN001
    """Renew, let lapse or leave a title as time would have treated it by `today`."""
    def event(action: Event, on: date, **kw: str) -> bool:
        return _try(lambda: apply_event(session, actor=actor, rules=rules, certification_id=cert.id, at=now(),
                                        today=today, event=EventInput(action, on, **kw)))

    while cert.valid_until is not None and cert.valid_until < today and cert.status in LIVE:
        fate, until = rng.random(), cert.valid_until
        # a renewal is a review submitted in its window, then passed (issue 14: never a pass from active)
        if fate < 0.7 and event(Event.SUBMIT_REVIEW, until - timedelta(days=30)):
            event(Event.PASS_REVIEW, until - timedelta(days=20), document_no="复核通过")
        elif fate < 0.9:
            event(Event.EXPIRE, until + timedelta(days=1), note="未参加复核")
        else:
            event(Event.WITHDRAW, until - timedelta(days=30), note="企业主动放弃")
        if cert.status in LIVE and cert.valid_until == until:  # refused (e.g. lost eligibility): it lapses
            if cert.status == Status.UNDER_REVIEW:
                event(Event.FAIL_REVIEW, until - timedelta(days=10))
            else:
                event(Event.EXPIRE, until + timedelta(days=1), note="未参加复核")
        if cert.status in LIVE and cert.valid_until == until:
            break
    if cert.status in LIVE and cert.review_window_opens_on and cert.review_window_opens_on <= today and rng.random() < 0.4:
        event(Event.SUBMIT_REVIEW, today - timedelta(days=rng.randint(0, 20)))
    missing = not any(r.year == today.year - 1 for r in cert.enterprise.annual_reports)
    if cert.status in LIVE and missing and today.month >= 5 and cert.recognized_on.year < today.year:
        mark_review_ineligible(session, actor=actor, cert=cert, cause="annual_update_missed", at=now())


def _person(session: Session, username: str) -> Actor:
    user = session.scalars(sa.select(User).where(User.username == username)).one()
    return Actor(kind="user", name=user.username, role=user.role, region_code=user.region_code, user_id=user.id)


def _pipeline(session: Session, rules: Rules, today: date) -> str:
    """A 小巨人 pool and two batches of 台州, made through the services by the officers of each level:
    第一批 in publicity with a real-name objection; 第二批 open, one application waiting at every level of
    the chain (district, city, province, ministry) and one returned for correction. Skipped when any exists."""
    if session.scalar(sa.select(sa.func.count()).select_from(Batch)):
        return ""
    at = now()
    district, city, province, ministry = (_person(session, u) for u in ("jj_officer", "tz_officer", "zj_officer",
                                                                          "miit_officer"))
    candidates = [_candidate(session, rules, today, i) for i in range(1, 7)]
    pool = pipeline.run_pool(session, actor=city, rules=rules, tier="little_giant", year=today.year, on=today, at=at)
    chain = ("district", "city", "province", "ministry")
    deadlines = {level: today + timedelta(days=15 * (i + 1)) for i, level in enumerate(chain)}
    first = pipeline.create_batch(session, actor=province, rules=rules, tier="little_giant", year=today.year,
                                  name="第一批（演示）", quotas={"331000": 3}, deadlines=deadlines, today=today, at=at,
                                  region_code="331000")
    second = pipeline.create_batch(session, actor=province, rules=rules, tier="little_giant", year=today.year,
                                   name="第二批（演示）", quotas={"331000": 5}, deadlines=deadlines, today=today,
                                   at=at, region_code="331000")
    offices = {"district": district, "city": city, "province": province, "ministry": ministry}

    def climb(application_id: int, levels: tuple[str, ...], decision: str = "recommend") -> None:
        for level in levels:
            pipeline.record_opinion(session, actor=offices[level], rules=rules, application_id=application_id,
                                    level=level, decision=decision, note="同意推荐" if decision == "recommend"
                                    else "请补充近三年审计报告", on=today, at=at)

    published = pipeline.apply(session, actor=district, rules=rules, batch_id=first.id, enterprise_id=candidates[0],
                               today=today, at=at)
    climb(published.id, chain)
    pipeline.start_publicity(session, actor=province, batch_id=first.id, starts_on=today - timedelta(days=2),
                             ends_on=today + timedelta(days=5), published_where="浙江省经济和信息化厅网站", at=at)
    pipeline.file_objection(session, actor=province, batch_id=first.id, application_id=published.id,
                            submitter_name="王建国", submitter_identity="real_name", contact="13800000000",
                            grounds="该企业近三年研发费用数据与审计报告不一致", evidence="附审计报告复印件",
                            received_on=today, at=at, today=today)
    for i, waiting_after in enumerate(((), chain[:1], chain[:2], chain[:3])):  # waiting at each level in turn
        application = pipeline.apply(session, actor=district, rules=rules, batch_id=second.id,
                                     enterprise_id=candidates[1 + i], today=today, at=at)
        climb(application.id, waiting_after)
    returned = pipeline.apply(session, actor=district, rules=rules, batch_id=second.id, enterprise_id=candidates[5],
                              today=today, at=at)
    climb(returned.id, chain[:1], decision="return")
    return (f"；培育库 #{pool.id}、申报批次 2 个（第一批公示中，含异议 1 件；第二批各级待推荐）/ "
            f"a pool and two batches for the pipeline")


def _candidate(session: Session, rules: Rules, today: date, i: int) -> int:
    """A 椒江 enterprise holding 创新型 and 专精特新, with three years' figures that meet the computable 小巨人
    conditions (63号 附件3): the pipeline scene's applicants."""
    actor, at = cli_actor("seed-demo"), now()
    code = demo_uscc("331002", 900_000 + i)
    found = session.scalar(sa.select(Enterprise.id).where(Enterprise.uscc == code))
    if found is not None:
        return found
    ent, _ = register_enterprise(session, actor=actor, at=at, data={
        "uscc": code, "name": f"台州椒江{WORDS[i]}智能装备演示{i}有限公司", "region_code": "331002",
        "industry_code": "C34", "size_class": "medium", "founded_on": date(2010 + i, 3, 1),
        "contact_name": "陈" + ("伟", "芳", "娜", "敏", "静", "强")[i - 1], "contact_email": f"candidate{i}@demo-enterprise.cn",
        "contact_phone": f"0576-8890000{i}", "officer_id": session.scalar(
            sa.select(User.id).where(User.username == "tz_officer"))})
    for tier, days in (("innovative_sme", 900), ("specialized_sme", 870)):
        on = today - timedelta(days=days)
        grant_certification(session, actor=actor, rules=rules, enterprise_id=ent.id, tier=tier, recognized_on=on,
                            at=at, today=today, batch=f"{on.year}年第1批", document_no=f"浙经信企业〔{on.year}〕{100 + i}号",
                            authority="浙江省经济和信息化厅")
    revenue = Decimal(150_000_000 + 10_000_000 * i)
    for back in (3, 2, 1):
        year = today.year - back
        record_annual_report(session, actor=actor, enterprise_id=ent.id, year=year, at=at, today=today, data={
            "revenue": revenue, "main_business_revenue": revenue * Decimal("0.85"),
            "rd_expense": (revenue * Decimal("0.05")).quantize(Decimal("0.01")), "employees": 320 + 10 * i,
            "rd_staff": 60, "debt_ratio": Decimal("45"), "invention_patents": 3 + i,
            "audit_report_code": f"ZJ{year}9{i:05d}", "audit_firm": "台州某会计师事务所",
            "submitted_on": min(date(year + 1, 3, 15), today), "main_product": PRODUCTS[i % len(PRODUCTS)],
            "main_product_revenue": (revenue * Decimal("0.85") * Decimal("0.8")).quantize(Decimal("0.01"))})
        revenue = (revenue * Decimal("1.12")).quantize(Decimal("0.01"))
    return ent.id
