"""Set-based twins of update_enterprise, register_enterprise, record_annual_report (a new year and a
correction) and grant_certification, for imports.

They write the same rows and the same audit events as the one-at-a-time services (the import
tests compare the two, and tests/roster/test_apply_golden.py a whole mixed file), with a few
statements per thousand records instead of a dozen per record — the difference between seconds
and many minutes for a 50,000-row roster. They check what can be checked for a whole set at
once: permission, region scope, region exists, USCC not yet registered, report year not yet
recorded; changes take the services' guards item by item (holder shape, region, officer, merged
figures) over rows locked in id order and read once. Eligibility (bans, prerequisites,
exclusions) depends on the order of grants and is the caller's job: the import runs `check_grant`
over the whole file before it writes anything.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from registry.audit import trail as audit
from registry.domain import guards, uscc
from registry.domain.actors import Action, Actor, in_scope, require
from registry.domain.errors import Conflict, NotFound, RuleViolation, StaleVersion
from registry.domain.holders import PRODUCT_FIELDS
from registry.domain.personal import CONTACT_FIELDS
from registry.enterprises.locks import lock_enterprises
from registry.enterprises.models import AnnualReport, Enterprise, contact_columns
from registry.enterprises.services import (
    ENTERPRISE_FIELDS,
    REPORT_FIELDS,
    SHAPE_FIELDS,
    check_officer,
    check_region,
    current_region,
    holder_shape,
)
from registry.platform.bulkwrite import insert_rows
from registry.policies.rules import Rules
from registry.regions.models import Region
from registry.titles.models import Certification, CertificationEvent, CertificationTerm
from registry.titles.services import CERT_FIELDS, granted_fields, tier_in_force

CHUNK = 2000
T = TypeVar("T")


def chunked(values: Iterable[T], size: int = CHUNK) -> Iterator[list[T]]:
    """Yield lists of at most `size` items (IN lists stay under every backend's parameter limit)."""
    batch: list[T] = []
    for value in values:
        batch.append(value)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


def where_in(conn: Connection, column: sa.ColumnElement[Any],
             values: Iterable[Any]) -> Iterator[sa.ColumnElement[bool]]:
    """Yield conditions that together select the rows whose `column` is one of `values` (a large set).

    PostgreSQL: one condition, `column IN (SELECT unnest(:array))` — a single parameter, where IN lists
    of CHUNK placeholders cost psycopg ~10 ms each to convert (long statements are not cached). Not
    `column = ANY(:array)`: for 20,000 names the planner served that from the pg_trgm GIN index (which
    answers equality too) and took 87 s at 1,000,000 enterprises; the semi-join probes the btree per
    value (0.17 s) whatever the array's length (issue 19).
    Elsewhere: `column IN (…)` over CHUNK values at a time.
    """
    values = list(values)
    if not values:
        return
    if conn.dialect.name == "postgresql":
        # varchar, not varchar(n): a value cast to varchar(n) is cut to n characters without a word, and a name
        # of 201 characters then found the enterprise registered under its first 200 (tests/roster/test_where_in.py)
        element = sa.String() if isinstance(column.type, sa.String) else column.type
        yield column.in_(sa.select(sa.func.unnest(sa.literal(values, postgresql.ARRAY(element)))))
        return
    for batch in chunked(values):
        yield column.in_(batch)


@dataclass(frozen=True)
class NewReport:
    """One year's figures for an enterprise that has none for that year."""

    enterprise_id: int
    year: int
    data: dict[str, Any]
    why: audit.Why = audit.Why()


@dataclass(frozen=True)
class NewTitle:
    """A title to grant (eligibility already checked by the caller)."""

    enterprise_id: int
    tier: str
    recognized_on: date
    details: dict[str, str | None] = field(default_factory=dict)  #: batch, document_no, authority
    why: audit.Why = audit.Why()


def _insert(session: Session, model: type, rows: list[dict[str, Any]]) -> list[int]:
    """Insert rows and return their ids in the rows' order (each row gets its "id" key).

    The ids are worked out first and the rows written by registry.platform.bulkwrite (COPY on PostgreSQL,
    executemany on SQLite), never with INSERT … RETURNING: psycopg parses a multi-row RETURNING
    statement afresh for every page, and SQLAlchemy can only keep RETURNING in the rows' order on
    SQLite by running one INSERT per row (300,000 statements for a 100,000-row import), which cost
    more than the writing itself. PostgreSQL: the ids are drawn from the table's
    sequence. SQLite: they follow the table's largest id, which is exactly what SQLite would have
    given (the tables have no AUTOINCREMENT), and no other writer can come between: every
    transaction that may write begins IMMEDIATE and holds the database's write lock (registry/platform/db.py;
    read-only sessions, which begin DEFERRED, refuse INSERT/UPDATE/DELETE).
    """
    if not rows:
        return []
    table = model.__table__
    if session.get_bind().dialect.name == "postgresql":
        sequence = sa.func.pg_get_serial_sequence(table.name, "id")
        ids = list(session.scalars(sa.select(sa.func.nextval(sequence))
                                   .select_from(sa.func.generate_series(1, len(rows)))))
    else:
        first = (session.scalar(sa.select(sa.func.max(table.c.id))) or 0) + 1
        ids = list(range(first, first + len(rows)))
    for row, row_id in zip(rows, ids, strict=True):
        row["id"] = row_id
    insert_rows(session, table, rows)
    return ids


def register_enterprises(session: Session, *, actor: Actor, items: list[tuple[dict[str, Any], audit.Why]],
                         at: datetime) -> list[int]:
    """Add enterprises (data as register_enterprise takes it); return their ids in order."""
    require(actor, Action.WRITE)
    if not items:
        return []
    rows = [{**{k: shaped.get(k) for k in ENTERPRISE_FIELDS}, "uscc": uscc.validate(data["uscc"]),
             "version": 1, "created_at": at, "updated_at": at}
            for data, _ in items for shaped in (holder_shape(data),)]  # a blank kind is an enterprise
    for row in rows:
        row.update(contact_columns(row))  # the masked forms and blind indexes the ORM keeps (enterprises/models.py)
    _check_regions(session, actor, {r["region_code"] for r in rows})
    _check_usccs_free(session, [r["uscc"] for r in rows])
    ids = _insert(session, Enterprise, rows)
    audit.record_many(session, actor=actor, at=at, entries=(
        audit.Entry("enterprise.created", "enterprise", eid, audit.created(row, ENTERPRISE_FIELDS), enterprise_id=eid,
                    region_code=row["region_code"], why=why, plain=True)
        for eid, row, (_, why) in zip(ids, rows, items, strict=True)))
    return ids


@dataclass(frozen=True)
class EnterpriseUpdate:
    """Fields to change on a registered enterprise (as update_enterprise takes them), and why."""

    enterprise_id: int
    data: dict[str, Any]
    why: audit.Why = audit.Why()
    #: the version the change was planned against: another (someone changed the enterprise since) is stale
    version: int | None = None


def update_enterprises(session: Session, *, actor: Actor, items: list[EnterpriseUpdate], at: datetime) -> int:
    """Change registered enterprises' fields as update_enterprise does, one item after another in order
    (the version each was read at is the one it is written over: the rows are locked first); return
    how many changed. Each item that changes something counts a version, sets updated_at, moves the
    enterprise's titles with its region and is audited (enterprise.updated), as the service does; the
    same guards apply: scope, the holder's shape and kind, the region in force and in scope, the
    officer. A USCC is not changed here (a person's change of it needs a second person).
    :raises StaleVersion: an enterprise's version, once locked, is not the one its first item names.
    """
    require(actor, Action.WRITE)
    if not items:
        return 0
    if any("uscc" in i.data for i in items):
        raise RuleViolation.on("uscc", "统一社会信用代码不能批量变更 / the USCC is not changed in bulk")
    _regions_of(session, actor, [i.enterprise_id for i in items])
    lock_enterprises(session, [i.enterprise_id for i in items])
    table, conn = Enterprise.__table__, session.connection()
    current: dict[int, dict[str, Any]] = {}  #: each enterprise as it stands, earlier items applied
    for condition in where_in(conn, table.c.id, sorted({i.enterprise_id for i in items})):
        current.update({r.id: dict(r._mapping) for r in conn.execute(sa.select(table).where(condition))})
    titled = _with_titles(conn, [i.enterprise_id for i in items if "holder_kind" in i.data])
    regions: dict[str, str] = {}  #: a code as given → the code in force, checked
    writes: dict[tuple[str, ...], list[dict[str, Any]]] = {}
    moved: list[dict[str, Any]] = []
    entries = []
    seen: set[int] = set()
    for item in items:
        ent = current[item.enterprise_id]
        if item.enterprise_id not in seen:  # the items of one enterprise were planned together
            seen.add(item.enterprise_id)
            if item.version is not None and item.version != ent["version"]:
                raise StaleVersion(f"企业 {ent['uscc']} 在核对之后已被他人修改（当前版本 {ent['version']}），请重新导入"
                                   f" / stale version {item.version}, current is {ent['version']}",
                                   current_version=ent["version"])
        updates = {k: v for k, v in item.data.items() if k in ENTERPRISE_FIELDS}
        if any(k in updates for k in SHAPE_FIELDS):
            updates = holder_shape(updates, {k: ent[k] for k in SHAPE_FIELDS})
            if updates.get("holder_kind", ent["holder_kind"]) != ent["holder_kind"] and ent["id"] in titled:
                raise RuleViolation.on("holder_kind", "该记录已有称号，不能变更登记类型（企业与园区、区域的称号不同）"
                                                      " / a record with titles keeps its holder kind")
        if "region_code" in updates:
            code = updates["region_code"]
            if code not in regions:
                regions[code], _ = current_region(session, code)
                check_region(session, actor, regions[code])
            updates["region_code"] = regions[code]
        if "region_code" in updates or "officer_id" in updates:
            check_officer(session, updates.get("officer_id", ent["officer_id"]),
                          updates.get("region_code", ent["region_code"]))
        changes = {k: [old, new] for k, v in updates.items() if (old := audit.plain(ent[k])) != (new := audit.plain(v))}
        if not changes:
            continue
        values = {k: updates[k] for k in changes}
        if CONTACT_FIELDS.keys() & values.keys():  # the masked forms and blind indexes of the changed contacts
            values.update(contact_columns(values))
        values.update(version=ent["version"] + 1, updated_at=at)
        ent.update(values)
        writes.setdefault(tuple(values), []).append({"_id": ent["id"], **values})
        if "region_code" in changes:
            moved.append({"_eid": ent["id"], "region_code": ent["region_code"]})
        entries.append(audit.Entry("enterprise.updated", "enterprise", ent["id"], changes, enterprise_id=ent["id"],
                                   region_code=ent["region_code"], why=item.why, plain=True))
    for columns, rows in writes.items():  # one executemany per set of changed columns
        conn.execute(table.update().where(table.c.id == sa.bindparam("_id"))
                     .values({c: sa.bindparam(c) for c in columns}), rows)
    if moved:  # the titles follow their holder's region (a version each, as the ORM counts it)
        certs = Certification.__table__
        conn.execute(certs.update().where(certs.c.enterprise_id == sa.bindparam("_eid"),
                                          certs.c.region_code != sa.bindparam("region_code"))
                     .values(region_code=sa.bindparam("region_code"), version=certs.c.version + 1), moved)
    audit.record_many(session, actor=actor, at=at, entries=entries)
    return len(entries)


def _with_titles(conn: Connection, enterprise_ids: list[int]) -> set[int]:
    """The enterprises among `enterprise_ids` that hold any title."""
    certs, found = Certification.__table__, set()
    for condition in where_in(conn, certs.c.enterprise_id, sorted(set(enterprise_ids))):
        found.update(conn.execute(sa.select(certs.c.enterprise_id).where(condition).distinct()).scalars())
    return found


def _check_regions(session: Session, actor: Actor, codes: set[str]) -> None:
    known = set(session.scalars(sa.select(Region.code).where(Region.code.in_(codes))))
    for code in sorted(codes):
        if code not in known:
            raise RuleViolation.on("region_code", f"行政区划代码 {code} 不存在 / unknown region code")
        if not in_scope(actor, code):
            raise RuleViolation.on("region_code", f"地区 {code} 不在您的管辖范围内 / outside your region")


def _check_usccs_free(session: Session, codes: list[str]) -> None:
    twice = [code for code, n in Counter(codes).items() if n > 1]
    if twice:
        raise Conflict(f"统一社会信用代码 {twice[0]} 重复 / duplicate uscc", field="uscc")
    table, conn = Enterprise.__table__, session.connection()  # unscoped: a USCC of another region is taken too
    for condition in where_in(conn, table.c.uscc, codes):
        taken = conn.execute(sa.select(table.c.uscc).where(condition)).first()
        if taken is not None:
            raise Conflict(f"统一社会信用代码 {taken.uscc} 已登记 / duplicate uscc", field="uscc")


def _regions_of(session: Session, actor: Actor, enterprise_ids: list[int]) -> dict[int, str]:
    """Map enterprise ids to their regions, refusing any outside the actor's region."""
    table, conn = Enterprise.__table__, session.connection()
    regions: dict[int, str] = {}
    for condition in where_in(conn, table.c.id, sorted(set(enterprise_ids))):
        regions.update(dict(conn.execute(sa.select(table.c.id, table.c.region_code).where(condition)).all()))
    for eid in enterprise_ids:
        if eid not in regions or not in_scope(actor, regions[eid]):
            raise NotFound("企业不存在 / enterprise not found")
    return regions


def record_annual_reports(session: Session, *, actor: Actor, items: list[NewReport], at: datetime) -> list[int]:
    """Record first-time annual figures (as record_annual_report does for a new year); return ids."""
    require(actor, Action.WRITE)
    if not items:
        return []
    regions = _regions_of(session, actor, [i.enterprise_id for i in items])
    table, conn = AnnualReport.__table__, session.connection()
    wanted = {(i.enterprise_id, i.year) for i in items}
    for condition in where_in(conn, table.c.enterprise_id, sorted({i.enterprise_id for i in items})):
        stmt = sa.select(table.c.enterprise_id, table.c.year).where(condition)
        if clash := wanted & {tuple(r) for r in conn.execute(stmt)}:
            raise Conflict(f"企业 #{min(clash)[0]} 的 {min(clash)[1]} 年度数据已存在 / report exists")
    rows = [{"enterprise_id": i.enterprise_id, "year": i.year,
             **{k: i.data[k] for k in REPORT_FIELDS if k in i.data}} for i in items]
    ids = _insert(session, AnnualReport, rows)
    audit.record_many(session, actor=actor, at=at, entries=(
        audit.Entry("annual_report.recorded", "annual_report", rid,
                    {"year": [None, audit.plain(row["year"])], **audit.created(_all(row), REPORT_FIELDS)},
                    enterprise_id=row["enterprise_id"], region_code=regions[row["enterprise_id"]], why=item.why,
                    plain=True)
        for rid, row, item in zip(ids, rows, items, strict=True)))
    return ids


def correct_annual_reports(session: Session, *, actor: Actor, items: list[NewReport], at: datetime) -> int:
    """Correct recorded years' figures (as record_annual_report does for a year already recorded), in
    the items' order: each year's merged figures checked, only what differs written and audited
    (annual_report.corrected). Returns how many reports changed. :raises Conflict: a year not recorded.
    """
    require(actor, Action.WRITE)
    if not items:
        return 0
    regions = _regions_of(session, actor, [i.enterprise_id for i in items])
    lock_enterprises(session, list(regions))  # as record_annual_report locks each: a racing write waits
    table, conn = AnnualReport.__table__, session.connection()
    stored: dict[tuple[int, int], dict[str, Any]] = {}  #: the reports as they stand, each correction applied
    for condition in where_in(conn, table.c.enterprise_id, sorted(regions)):
        stored.update({(r.enterprise_id, r.year): dict(r._mapping) for r in conn.execute(sa.select(table).where(condition))})
    today = guards.local_today(at)
    updates: dict[tuple[str, ...], list[dict[str, Any]]] = {}
    entries = []
    for i in items:
        row = stored.get((i.enterprise_id, i.year))
        if row is None:
            raise Conflict(f"企业 #{i.enterprise_id} 的 {i.year} 年度数据尚未登记 / no report to correct")
        values = {k: i.data[k] for k in REPORT_FIELDS if k in i.data}
        guards.check_annual_figures(i.year, {**{k: row[k] for k in REPORT_FIELDS}, **values}, today)
        changes = {k: [old, new] for k, v in values.items() if (old := audit.plain(row[k])) != (new := audit.plain(v))}
        if changes:
            changed = {k: values[k] for k in changes}
            row.update(changed)
            updates.setdefault(tuple(changes), []).append({"_id": row["id"], **changed})
            entries.append(audit.Entry("annual_report.corrected", "annual_report", row["id"], changes,
                                       enterprise_id=i.enterprise_id, region_code=regions[i.enterprise_id],
                                       why=i.why, plain=True))
    for columns, rows in updates.items():  # one executemany per set of changed columns
        conn.execute(table.update().where(table.c.id == sa.bindparam("_id"))
                     .values({c: sa.bindparam(c) for c in columns}), rows)
    audit.record_many(session, actor=actor, at=at, entries=entries)
    return len(entries)


def _all(row: dict[str, Any]) -> dict[str, Any]:
    return {**dict.fromkeys(REPORT_FIELDS), **row}


def grant_certifications(session: Session, *, actor: Actor, rules: Rules, items: list[NewTitle],
                         at: datetime) -> list[int]:
    """Grant titles whose eligibility the caller has checked; return their ids in order."""
    require(actor, Action.WRITE)
    if not items:
        return []
    regions = _regions_of(session, actor, [i.enterprise_id for i in items])
    granted: dict[tuple[str, date], dict[str, object]] = {}  # a file's titles share a few (tier, date)s
    for i in items:
        if (i.tier, i.recognized_on) not in granted:
            granted[i.tier, i.recognized_on] = granted_fields(tier_in_force(rules, i.tier, i.recognized_on),
                                                              i.recognized_on, at)
    rows = [{"enterprise_id": i.enterprise_id, "region_code": regions[i.enterprise_id],
             **granted[i.tier, i.recognized_on],
             **{k: i.details.get(k) for k in ("batch", "document_no", "authority", *PRODUCT_FIELDS)}}
            for i in items]
    ids = _insert(session, Certification, rows)
    _insert_children(session, actor, ids, rows, items, at)
    audit.record_many(session, actor=actor, at=at, entries=(
        audit.Entry("certification.granted", "certification", cid,
                    audit.created(row, CERT_FIELDS), enterprise_id=row["enterprise_id"],
                    region_code=row["region_code"], why=item.why, plain=True)
        for cid, row, item in zip(ids, rows, items, strict=True)))
    return ids


def _insert_children(session: Session, actor: Actor, ids: list[int], rows: list[dict[str, Any]],
                     items: list[NewTitle], at: datetime) -> None:
    """Write each new title's first term and its grant event."""
    terms, events = [], []
    for cid, row, item in zip(ids, rows, items, strict=True):
        terms.append({"certification_id": cid, "seq": 1, "valid_from": row["valid_from"],
                      "valid_until": row["valid_until"], "policy_code": row["policy_code"],
                      "decided_on": row["recognized_on"], "document_no": row["document_no"]})
        events.append({"certification_id": cid, "action": "grant", "effective_on": row["recognized_on"],
                       "from_status": None, "to_status": row["status"], "reason_code": None,
                       "document_no": row["document_no"], "note": item.why.note, "actor": actor.label,
                       "created_at": at})
    for model, batch in ((CertificationTerm, terms), (CertificationEvent, events)):
        insert_rows(session, model.__table__, batch)
