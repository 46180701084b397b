"""Deadlines as data per region and year (issue 17 §4): an admin records where a province or city moved
the annual information update's window, with the notice (文号) that moved it.

The services take the session, an explicit actor and instant, flush and never commit; each change is
one audit event (`deadline_override.added` / `deadline_override.removed`) carrying the 文号.

Rules (docs/deadline-overrides.md):

- only a 业务管理员 (role admin) or the command line records or removes one, and only for a node of
  the actor's own region;
- the node is a province or a prefecture-level city (a district follows its city);
- the date lies in the override's year and is not before the policy's own date of that year: a
  notice gives enterprises more time, it never makes a report filed on time late after the fact;
- one override per node and year; the deepest node holding an enterprise wins.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session

from registry.audit import trail as audit
from registry.domain.actors import SYSTEM_KINDS, Action, Actor, Role, in_scope, require
from registry.domain.deadlines import annual_update_due
from registry.domain.errors import NotFound, PermissionDenied, RuleViolation
from registry.domain.regions import CODE, code_range
from registry.policies.models import DeadlineOverride
from registry.policies.rules import Rules
from registry.regions.models import Region

ANNUAL_UPDATE = "annual_update"
KIND_NAMES = {ANNUAL_UPDATE: "年度信息更新"}
FIELDS = ("kind", "region_code", "year", "policy_date", "due_on", "document_no", "note")
DEFAULT_POLICY_DATE = "04-30"  #: 63号: 每年1月1日至4月30日更新企业信息
DOCUMENT_MAX, NOTE_MAX = 200, 500
YEARS = (2000, 2100)


@dataclass(frozen=True)
class OverrideRow:
    """One override as the page and the API show it."""

    id: int
    kind: str
    region_code: str
    region_name: str
    year: int
    policy_date: str
    due_on: date
    policy_due_on: date | None
    document_no: str
    note: str
    created_by: str
    created_at: datetime


def _require_admin(actor: Actor) -> None:
    require(actor, Action.WRITE)
    if actor.kind not in SYSTEM_KINDS and actor.role != Role.ADMIN:
        raise PermissionDenied("仅业务管理员可以登记或删除截止日期调整 / only an admin may change deadline overrides")


def policy_dates(rules: Rules) -> dict[str, list[str]]:
    """Each policy date (MM-DD) of the annual update, with the names of the tiers whose update falls then."""
    found: dict[str, list[str]] = {}
    for tier in (t for p in rules.policies.policies for t in p.tiers if t.annual_update_due is not None):
        month, day = tier.annual_update_due  # type: ignore[misc]
        names = found.setdefault(f"{month:02d}-{day:02d}", [])
        if tier.name not in names:
            names.append(tier.name)
    return dict(sorted(found.items()))


def policy_due(rules: Rules, year: int, policy_date: str) -> date | None:
    """The policy's own date of `year` for the update due on `policy_date` (moved off a rest day)."""
    for tier in (t for p in rules.policies.policies for t in p.tiers):
        if tier.annual_update_due is not None and f"{tier.annual_update_due[0]:02d}-{tier.annual_update_due[1]:02d}" == policy_date:
            found = annual_update_due(rules.calendar, tier, year)
            return found.on if found is not None else None
    return None


def list_overrides(session: Session, actor: Actor, rules: Rules, year: int | None = None) -> list[OverrideRow]:
    """The overrides of the actor's region (and of the nodes above it, which govern it too), newest year first."""
    require(actor, Action.READ)
    stmt = sa.select(DeadlineOverride, Region.name).outerjoin(Region, Region.code == DeadlineOverride.region_code)
    if year is not None:
        stmt = stmt.where(DeadlineOverride.year == year)
    rows = session.execute(stmt.order_by(DeadlineOverride.year.desc(), DeadlineOverride.region_code)).all()
    return [OverrideRow(o.id, o.kind, o.region_code, name or o.region_code, o.year, o.policy_date, o.due_on,
                        policy_due(rules, o.year, o.policy_date), o.document_no, o.note, o.created_by, o.created_at)
            for o, name in rows if in_scope(actor, o.region_code) or _above(o.region_code, actor.region_code)]


def node_choices(session: Session, actor: Actor) -> list[tuple[str, str]]:
    """The provinces and cities of the actor's region an override can be recorded for, as (code, label)."""
    low, high = code_range(actor.region_code) if actor.region_code != "000000" else ("000000", "999999")
    rows = session.execute(sa.select(Region.code, Region.name, Region.level).where(
        Region.level.in_(("province", "city")), Region.code.between(low, high)).order_by(Region.code)).all()
    return [(code, f"{'　' if level == 'city' else ''}{name}（{code}）") for code, name, level in rows]


def _above(node: str, region: str) -> bool:
    low, high = code_range(node)
    return low <= region <= high


def _text(value: object) -> str:
    return "" if value is None else str(value).strip()


def add_override(session: Session, *, actor: Actor, rules: Rules, region_code: object, year: object,
                 due_on: object, document_no: object, note: object = "", policy_date: object = None,
                 at: datetime) -> DeadlineOverride:
    """Record that `region_code` moved the annual update of `year` to `due_on` by `document_no`.

    `policy_date` (MM-DD) names the policy's date that moves (default 04-30, the 63号 update): the
    tiers whose annual update falls on another date (浙江隐形冠军's 31 March report) keep theirs.

    :raises RuleViolation: naming the field, in Chinese; nothing is written.
    """
    _require_admin(actor)
    errors: dict[str, list[str]] = {}
    code = _text(region_code)
    region = session.get(Region, code) if CODE.match(code) else None
    if region is None:
        errors["region_code"] = ["地区：请选择一个省或地级市 / region_code: unknown region"]
    elif region.level not in ("province", "city"):
        errors["region_code"] = [f"地区：{region.name}是区县，截止日期调整只能登记到省或地级市 / "
                                 "region_code: a province or a city"]
    elif not in_scope(actor, code):
        errors["region_code"] = [f"地区：{region.name}不在您的管辖范围内 / region_code: outside your region"]
    try:
        year_n = int(_text(year))
    except ValueError:
        year_n = None
    if year_n is None or not YEARS[0] <= year_n <= YEARS[1]:
        errors["year"] = [f"年度：请填写 {YEARS[0]} 至 {YEARS[1]} 之间的年份 / year: {YEARS[0]}..{YEARS[1]}"]
        year_n = None
    moved = _text(policy_date) or DEFAULT_POLICY_DATE
    dates = policy_dates(rules)
    if moved not in dates:
        errors["policy_date"] = [f"调整的事项：政策中没有 {moved} 截止的年度信息更新，应为 {'、'.join(dates)} 之一"
                                 " / policy_date: not a policy date"]
    day: date | None = due_on if isinstance(due_on, date) else None
    if day is None and _text(due_on):
        try:
            day = date.fromisoformat(_text(due_on))
        except ValueError:
            day = None
    if day is None:
        errors["due_on"] = ["截止日期：请填写日期，如 2027-06-26 / due_on: a date"]
    elif year_n is not None:
        own = policy_due(rules, year_n, moved)
        if day.year != year_n:
            errors["due_on"] = [f"截止日期：应在 {year_n} 年内 / due_on: within the year"]
        elif own is not None and day < own:
            errors["due_on"] = [f"截止日期：不能早于政策规定的 {own}（调整只能延后，不能使已按期报送的企业变为逾期）"
                                f" / due_on: not before the policy's date {own}"]
    doc = _text(document_no)
    if not doc:
        errors["document_no"] = ["文号：请填写调整所依据的文件文号 / document_no: required"]
    elif len(doc) > DOCUMENT_MAX:
        errors["document_no"] = [f"文号：不超过 {DOCUMENT_MAX} 个字 / document_no: at most {DOCUMENT_MAX}"]
    text = _text(note)
    if len(text) > NOTE_MAX:
        errors["note"] = [f"说明：不超过 {NOTE_MAX} 个字 / note: at most {NOTE_MAX}"]
    if not errors and session.scalar(sa.select(DeadlineOverride.id).where(
            DeadlineOverride.kind == ANNUAL_UPDATE, DeadlineOverride.region_code == code,
            DeadlineOverride.year == year_n, DeadlineOverride.policy_date == moved)) is not None:
        errors["year"] = [f"年度：{region.name if region else code} {year_n} 年已登记调整，请先删除原记录 / "
                          "year: already overridden"]
    if errors:
        raise RuleViolation(errors)
    assert year_n is not None and day is not None
    row = DeadlineOverride(kind=ANNUAL_UPDATE, region_code=code, year=year_n, policy_date=moved, due_on=day, document_no=doc,
                           note=text, created_by=actor.label[:128], created_at=at)
    session.add(row)
    session.flush()
    audit.record(session, actor=actor, action="deadline_override.added", entity_type="deadline_override",
                 entity_id=row.id, region_code=code, changes=audit.snapshot(row, FIELDS), at=at,
                 why=audit.Why(document_no=doc, note=text or None))
    return row


def remove_override(session: Session, *, actor: Actor, override_id: int, at: datetime,
                    note: str | None = None) -> None:
    """Remove an override: the policy's date (or a wider node's override) governs again. Audited."""
    _require_admin(actor)
    row = session.get(DeadlineOverride, override_id)
    if row is None or not in_scope(actor, row.region_code):
        raise NotFound("截止日期调整记录不存在 / not found")
    changes = {f: [audit.plain(getattr(row, f)), None] for f in FIELDS}
    region, doc = row.region_code, row.document_no
    session.delete(row)
    session.flush()
    audit.record(session, actor=actor, action="deadline_override.removed", entity_type="deadline_override",
                 entity_id=override_id, region_code=region, changes=changes, at=at,
                 why=audit.Why(document_no=doc, note=note or None))
