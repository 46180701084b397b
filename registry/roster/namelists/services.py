"""A published list of names: uploaded (read and matched, nothing of the registry written), then confirmed.

`upload_name_list` reads the file through the roster reader's hostile-file defences, checks the title
it grants (tier in force on the 认定日期, a date not in the future) and stores the list with each row's
match, candidates or "no match". `confirm_name_list` takes the officer's decision for every row — an
offered enterprise, a USCC, or skip — and grants the title to each chosen enterprise through the title
service and its guards (an already-held title, a ban, an ended or missing prerequisite refuse the row):
all rows or none, each change audited with the list's file and row. Services flush, never commit.

A row completed with a USCC that is not registered creates a minimal enterprise (the listed name, the
USCC, the region its 登记管理机关 code names) when that region is a known division inside the row's
省份/地区 and the officer's region; otherwise the row is refused (docs/name-lists.md).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from config.import_limits import ImportLimits
from registry.audit import trail as audit
from registry.domain import guards
from registry.domain import uscc as uscc_rules
from registry.domain.actors import Action, Actor, in_scope, require
from registry.domain.errors import Conflict, DomainError, RuleViolation
from registry.domain.lifecycle import LIVE
from registry.domain.regions import contains
from registry.enterprises.models import Enterprise
from registry.enterprises.queries import get_in_region, in_region
from registry.enterprises.services import get_enterprise, register_enterprise
from registry.policies.rules import Rules
from registry.regions.scoping import unscoped
from registry.roster.imports.lookups import Regions
from registry.roster.imports.problems import Problem
from registry.roster.imports.run import _short
from registry.roster.models import NameList, NameListStatus
from registry.roster.namelists.matching import MATCH, match_rows
from registry.roster.namelists.reading import ListRejected, read_names
from registry.titles.services import grant_certification, tier_in_force

TITLE_FIELDS = ("tier", "recognized_on", "batch", "document_no", "authority")
SKIP, ENTERPRISE, USCC = "skip", "enterprise", "uscc"


def get_name_list(session: Session, actor: Actor, list_id: int) -> NameList:
    """Return a list the actor may see (its region's, or below). :raises NotFound:"""
    require(actor, Action.READ)
    return get_in_region(session, actor, NameList, list_id, "公告名单", "name list")


def name_lists_select(actor: Actor) -> sa.Select[tuple[NameList]]:
    """Select the lists the actor may see, newest first."""
    require(actor, Action.READ)
    return sa.select(NameList).where(in_region(NameList.region_code, actor.region_code)).order_by(NameList.id.desc())


def check_title(rules: Rules, title: dict[str, Any], today: date) -> None:
    """Refuse a title a list cannot grant: an unknown tier, a tier not in force, a future date. :raises RuleViolation:"""
    on = title.get("recognized_on")
    if not isinstance(on, date):
        raise RuleViolation.on("recognized_on", "请填写认定日期 / recognized_on is required")
    guards.check_not_future("recognized_on", "认定日期", on, today)
    tier_in_force(rules, str(title.get("tier") or ""), on)


def upload_name_list(session: Session, *, actor: Actor, rules: Rules, filename: str, content: bytes,
                     title: dict[str, Any], at: datetime, today: date,
                     limits: ImportLimits | None = None) -> NameList:
    """Read and match a list; store it for review and return it.

    :raises RuleViolation: the title is wrong. :raises ListRejected: the file or a row is unusable.
    """
    require(actor, Action.IMPORT)
    check_title(rules, title, today)
    rows = read_names(filename, content, limits)
    matched = match_rows(session, actor, rows)
    name_list = NameList(filename=_short(filename), status=NameListStatus.REVIEWING, region_code=actor.region_code,
                         user_id=actor.user_id, rows=matched, outcome={}, created_at=at,
                         **{k: title.get(k) or None for k in TITLE_FIELDS})
    session.add(name_list)
    session.flush()
    audit.record(session, actor=actor, action="name_list.uploaded", entity_type="name_list", entity_id=name_list.id,
                 region_code=_audit_region(actor), at=at,
                 changes={"filename": [None, name_list.filename], "counts": [None, _said(counts(name_list))]},
                 why=audit.Why(document_no=name_list.document_no, note=f"上传公告名单 {name_list.filename}"))
    return name_list


def counts(name_list: NameList) -> dict[str, int]:
    """Count the rows by how they matched (match, candidates, none)."""
    found = {"rows": len(name_list.rows), "match": 0, "candidates": 0, "none": 0}
    for row in name_list.rows:
        found[row["kind"]] = found.get(row["kind"], 0) + 1
    return found


COUNT_NAMES = {"rows": "行数", "match": "唯一匹配", "candidates": "有候选", "none": "未匹配"}


def _said(found: dict[str, int]) -> dict[str, int]:
    """Return the counts with Chinese keys, as the trail shows them."""
    return {COUNT_NAMES.get(k, k): v for k, v in found.items()}


def _audit_region(actor: Actor) -> str | None:
    return None if actor.region_code == "000000" else actor.region_code


def default_decisions(name_list: NameList) -> dict[int, dict[str, Any]]:
    """Return the decisions the review page proposes: each matched row's match; the others undecided."""
    return {r["row"]: {"choice": ENTERPRISE, "enterprise_id": r["match_id"]}
            for r in name_list.rows if r["kind"] == MATCH}


def _locked(session: Session, actor: Actor, list_id: int) -> NameList:
    """Load the list for confirming, locked (PostgreSQL: FOR UPDATE) and read afresh: a second confirmation
    waits for the first and then sees it applied."""
    get_name_list(session, actor, list_id)  # scope first: NotFound outside the actor's region
    return session.execute(sa.select(NameList).where(NameList.id == list_id).with_for_update()
                           .execution_options(populate_existing=True)).scalar_one()


def confirm_name_list(session: Session, *, actor: Actor, rules: Rules, list_id: int,
                      decisions: dict[int, dict[str, Any]], at: datetime, today: date) -> NameList:
    """Grant the list's title to the enterprise chosen for every row, or change nothing.

    `decisions` maps each row number to {"choice": "enterprise", "enterprise_id"} (one of the row's
    match and candidates), {"choice": "uscc", "uscc"} or {"choice": "skip"}.
    :raises Conflict: already applied. :raises ListRejected: a row is undecided or refused (all listed).
    """
    require(actor, Action.IMPORT)
    require(actor, Action.WRITE)
    name_list = _locked(session, actor, list_id)
    _refuse_unless_reviewing(name_list, at)
    problems = _undecided(name_list, decisions)
    if problems:
        raise ListRejected(problems)
    with session.begin_nested():  # one refused row undoes every row: the savepoint is rolled back, nothing stays
        results, problems = _grant_all(session, actor, rules, name_list, decisions, at, today)
        if problems:
            raise ListRejected(problems)
    name_list.status = NameListStatus.APPLIED
    name_list.applied_at = at
    name_list.applied_by_id = actor.user_id
    granted = sum(1 for r in results if r["certification_id"] is not None)
    created = sum(1 for r in results if r.get("created"))
    name_list.outcome = {"rows": results, "granted": granted, "created": created,
                         "skipped": sum(1 for r in results if r["choice"] == SKIP)}
    audit.record(session, actor=actor, action="name_list.applied", entity_type="name_list", entity_id=name_list.id,
                 region_code=_audit_region(actor), at=at,
                 changes={"status": [NameListStatus.REVIEWING.value, NameListStatus.APPLIED.value],
                          "granted": [None, granted], "created": [None, created],
                          "skipped": [None, name_list.outcome["skipped"]]},
                 why=audit.Why(document_no=name_list.document_no, note=f"确认公告名单 {name_list.filename}"))
    session.flush()
    return name_list


def _refuse_unless_reviewing(name_list: NameList, at: datetime) -> None:
    """Refuse to confirm or discard a list that is no longer under review. :raises Conflict:"""
    if name_list.status == NameListStatus.APPLIED:
        raise Conflict(f"该名单已于 {guards.local_today(name_list.applied_at or at)} 确认导入，不能再次确认"
                       " / this list was already applied", field="_schema")
    if name_list.status == NameListStatus.DISCARDED:
        raise Conflict("该名单已放弃，不能再确认；如需导入请重新上传 / this list was discarded", field="_schema")


def discard_name_list(session: Session, *, actor: Actor, list_id: int, at: datetime) -> NameList:
    """Set a list under review aside without writing anything of it (audited). :raises Conflict: not under review."""
    require(actor, Action.IMPORT)
    name_list = _locked(session, actor, list_id)
    _refuse_unless_reviewing(name_list, at)
    name_list.status = NameListStatus.DISCARDED
    audit.record(session, actor=actor, action="name_list.discarded", entity_type="name_list", entity_id=name_list.id,
                 region_code=_audit_region(actor), at=at,
                 changes={"status": [NameListStatus.REVIEWING.value, NameListStatus.DISCARDED.value]},
                 why=audit.Why(document_no=name_list.document_no, note=f"放弃公告名单 {name_list.filename}"))
    session.flush()
    return name_list


def _undecided(name_list: NameList, decisions: dict[int, dict[str, Any]]) -> list[Problem]:
    listed = {r["row"] for r in name_list.rows}
    problems = [Problem(row, None, "row", f"名单中没有第{row}行 / no such row") for row in sorted(set(decisions) - listed)]
    for r in name_list.rows:
        decision = decisions.get(r["row"])
        if decision is None or decision.get("choice") not in (SKIP, ENTERPRISE, USCC):
            problems.append(Problem(r["row"], None, "choice", f"「{r['name']}」尚未确认：请选择对应的企业、填写统一社会信用代码或跳过"
                                                              " / undecided row"))
        elif decision["choice"] == ENTERPRISE and not isinstance(decision.get("enterprise_id"), int):
            problems.append(Problem(r["row"], None, "enterprise_id", f"「{r['name']}」请选择对应的企业 / choose an enterprise"))
        elif decision["choice"] == USCC and not str(decision.get("uscc") or "").strip():
            problems.append(Problem(r["row"], None, "uscc", f"「{r['name']}」请填写统一社会信用代码 / uscc is required"))
    return problems


def _grant_all(session: Session, actor: Actor, rules: Rules, name_list: NameList,
               decisions: dict[int, dict[str, Any]], at: datetime,
               today: date) -> tuple[list[dict[str, Any]], list[Problem]]:
    """Try every row in a savepoint of its own; return what each became and the refusals."""
    regions = Regions(session)
    rule = tier_in_force(rules, name_list.tier, name_list.recognized_on)
    results: list[dict[str, Any]] = []
    problems: list[Problem] = []
    chosen: dict[int, int] = {}  #: enterprise id → the row that chose it
    for row in name_list.rows:
        decision = decisions[row["row"]]
        result: dict[str, Any] = {"row": row["row"], "name": row["name"], "choice": decision["choice"],
                                  "enterprise_id": None, "certification_id": None}
        results.append(result)
        if decision["choice"] == SKIP:
            continue
        why = audit.Why(document_no=name_list.document_no, note=f"公告名单 {name_list.filename} 第{row['row']}行")
        try:
            with session.begin_nested():
                enterprise, created = _enterprise_of(session, actor, regions, row, decision, why, at)
                if enterprise.id in chosen:
                    raise RuleViolation.on("enterprise_id", f"与第{chosen[enterprise.id]}行是同一家企业（{enterprise.name}）"
                                                            " / same enterprise as another row")
                chosen[enterprise.id] = row["row"]
                held = [c for c in enterprise.certifications if c.tier == rule.code and c.status in LIVE]
                if held:
                    raise Conflict(f"{enterprise.name} 已持有{rule.name}（{held[0].recognized_on} 认定），不重复授予"
                                   " / the title is already held", field="tier")
                cert = grant_certification(session, actor=actor, rules=rules, enterprise_id=enterprise.id,
                                           tier=rule.code, recognized_on=name_list.recognized_on, at=at,
                                           batch=name_list.batch, document_no=name_list.document_no,
                                           authority=name_list.authority, why=why, today=today)
                result.update(enterprise_id=enterprise.id, certification_id=cert.id, created=created,
                              uscc=enterprise.uscc)
        except RuleViolation as exc:
            for field, messages in exc.errors.items():
                problems.extend(Problem(row["row"], None, field, f"「{row['name']}」{m}") for m in messages)
        except DomainError as exc:
            problems.append(Problem(row["row"], None, str(exc.details.get("field") or "choice"),
                                    f"「{row['name']}」{exc.message}"))
    return results, problems


def _enterprise_of(session: Session, actor: Actor, regions: Regions, row: dict[str, Any], decision: dict[str, Any],
                   why: audit.Why, at: datetime) -> tuple[Enterprise, bool]:
    """Return the enterprise a row's decision names, and whether it was created now. :raises DomainError:"""
    if decision["choice"] == ENTERPRISE:
        offered = {c["id"] for c in row["candidates"]} | ({row["match_id"]} if row["match_id"] else set())
        if decision["enterprise_id"] not in offered:
            raise RuleViolation.on("enterprise_id", "所选企业不在该行的匹配结果中，请从列出的企业中选择或填写统一社会信用代码"
                                                    " / not one of the row's candidates")
        return get_enterprise(session, actor, decision["enterprise_id"]), False
    code = uscc_rules.validate(str(decision["uscc"]))
    with unscoped(session):  # the register is nationwide: a USCC registered elsewhere is not a new enterprise
        found = session.execute(sa.select(Enterprise.id, Enterprise.region_code).where(Enterprise.uscc == code)).first()
    if found is not None:
        if not in_scope(actor, found.region_code):
            raise RuleViolation.on("uscc", f"统一社会信用代码 {code} 的企业由其他地区管理，您无权为其导入称号"
                                           " / the enterprise is managed by another region")
        return get_enterprise(session, actor, found.id), False
    region = _region_for_new(regions, actor, row, code)
    enterprise, _ = register_enterprise(session, actor=actor, at=at, data={
        "uscc": code, "name": row["name"], "region_code": region, "note": why.note})
    return enterprise, True


def _region_for_new(regions: Regions, actor: Actor, row: dict[str, Any], code: str) -> str:
    """Return the region of an enterprise a row creates: the USCC's 登记管理机关 division. :raises RuleViolation:"""
    registered = regions.current(code[2:8])
    if registered not in regions.names:
        raise RuleViolation.on("uscc", f"统一社会信用代码 {code} 的登记机关代码 {code[2:8]} 不是已知的行政区划，无法新建企业；"
                                       "请先在企业名录中登记该企业 / unknown registration region")
    where = regions.full.get(registered, registered)
    if row["region_code"] and not contains(row["region_code"], registered):
        raise RuleViolation.on("uscc", f"统一社会信用代码的登记机关在{where}（{registered}），不在名单所列地区"
                                       f"「{row['region_text']}」内，请核对代码 / registration region outside the listed one")
    if not in_scope(actor, registered):
        raise RuleViolation.on("uscc", f"统一社会信用代码的登记机关在{where}（{registered}），不在您的管辖范围内，"
                                       "无法新建企业 / outside your region")
    return registered

