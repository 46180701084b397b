"""/pools: run a tier's pre-check into a candidate pool, read it, adjust its members by hand, export it."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import IO, Any, TypeVar

import sqlalchemy as sa
from flask import jsonify, request
from sqlalchemy.orm import Session

from registry.accounts.access import current_actor, requires
from registry.domain.actors import Action
from registry.enterprises.models import Enterprise
from registry.pipeline import services as pipeline
from registry.pipeline.common import overlaps
from registry.pipeline.export import write_pool_xlsx
from registry.pipeline.models import Batch, Pool
from registry.pipeline.schemas import (
    MemberIn,
    MemberOut,
    PoolArgs,
    PoolOut,
    PoolRunIn,
    PoolVerdictOut,
    ReasonIn,
    VerdictArgs,
    VerdictOut,
    dump_member,
    dump_pool,
    dump_pool_verdict,
    dump_verdict,
    tier_label,
)
from registry.platform.db import utcnow
from registry.platform.extensions import get_session
from registry.policies.rules import current_rules as rules
from registry.web.api import bp, load, page_of
from registry.web.api.common import schema, today
from registry.web.api.docs import doc
from registry.web.downloads import Audited, spooled_download

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
WRITE_ERRORS = (401, 403, 404, 409)
Record = TypeVar("Record", Pool, Batch)
def visible(model: type[Record], args: dict[str, Any]) -> tuple[list[Record], int, int, int]:
    """Return one page of the pools or batches that concern the actor (newest first), total, page, per_page.

    Pools and batches are office-wide records, few per year: the region test (`overlaps`: the
    record's region contains the actor's or lies inside it) runs on the filtered rows.
    """
    stmt = sa.select(model).order_by(model.year.desc(), model.id.desc())
    if args.get("tier"):
        stmt = stmt.where(model.tier == args["tier"])
    if args.get("year"):
        stmt = stmt.where(model.year == args["year"])
    actor, page, per_page = current_actor(), args["page"], args["per_page"]
    rows: Sequence[Record] = [r for r in get_session().scalars(stmt) if overlaps(actor, r.region_code)]
    return list(rows[(page - 1) * per_page: page * per_page]), len(rows), page, per_page


def list_args() -> dict[str, Any]:
    """Parse ?tier=&year=&page=&per_page=. :raises ValidationError:"""
    return schema(PoolArgs).load(request.args.to_dict())


@bp.post("/pools/run")
@doc("运行资格预审，生成培育库（按上一年度数据逐条核查）", body=PoolRunIn, response=PoolOut, status=201,
     errors=(401, 403))
@requires(Action.WRITE)
def run_pool():
    """Pre-check the caller's roster for a tier and keep the candidates with their criteria reports."""
    data, session, actor = load(PoolRunIn()), get_session(), current_actor()
    pool = pipeline.run_pool(session, actor=actor, rules=rules(), tier=data["tier"], year=data["year"],
                             on=today(), at=utcnow())
    session.commit()
    return jsonify(dump_pool(pool, pipeline.pool_members(session, actor=actor, pool_id=pool.id))), 201


@bp.get("/pools")
@doc("培育库列表", query=PoolArgs, response=PoolOut, many=True, errors=(401, 403))
@requires(Action.READ)
def list_pools():
    """List the pools that concern the caller's region."""
    rows, total, page, per_page = visible(Pool, list_args())
    return jsonify(page_of([dump_pool(p) for p in rows], total, page, per_page))


@bp.get("/pools/<int:pool_id>")
@doc("培育库详情（成员及逐条条件核查：所用数值、结论、依据）", response=PoolOut)
@requires(Action.READ)
def get_pool(pool_id: int):
    """Return a pool with its members in the caller's region and their criteria reports."""
    session, actor = get_session(), current_actor()
    pool = pipeline.get_pool(session, actor, pool_id)
    return jsonify(dump_pool(pool, pipeline.pool_members(session, actor=actor, pool_id=pool.id)))


@bp.get("/pools/<int:pool_id>/verdicts")
@doc("培育库核查结论（每家被核查企业一行：在库或未入库，未通过的条件、所用数值、依据）", query=VerdictArgs,
     response=VerdictOut, many=True)
@requires(Action.READ)
def pool_verdicts(pool_id: int):
    """Return one page of the verdicts of every enterprise the pool's run evaluated (?standing=in|out)."""
    args = schema(VerdictArgs).load(request.args.to_dict())
    rows, total = pipeline.pool_verdicts(get_session(), actor=current_actor(), pool_id=pool_id,
                                         standing=args["standing"], page=args["page"], per_page=args["per_page"])
    return jsonify(page_of([dump_verdict(*row) for row in rows], total, args["page"], args["per_page"]))


@bp.get("/enterprises/<int:enterprise_id>/pool-verdicts")
@doc("企业在各培育库的最新核查结论（新的培育库在前）", response=PoolVerdictOut, many=True)
@requires(Action.READ)
def enterprise_pool_verdicts(enterprise_id: int):
    """Return the enterprise's verdict in each pool that evaluated it, newest pool first (at most 20)."""
    session = get_session()
    rows = pipeline.enterprise_verdicts(session, actor=current_actor(), enterprise_id=enterprise_id)
    enterprise = session.get(Enterprise, enterprise_id)  # in the caller's region: enterprise_verdicts checked
    return jsonify({"items": [dump_pool_verdict(enterprise, *row) for row in rows]})


@bp.post("/pools/<int:pool_id>/rerun")
@doc("重新核查培育库（同一年度和基准日，按现有数据；替换核查结论）", response=PoolOut, errors=WRITE_ERRORS)
@requires(Action.WRITE)
def rerun_pool(pool_id: int):
    """Judge the pool's roster again and replace its verdicts (only the office that ran it)."""
    session, actor = get_session(), current_actor()
    pool = pipeline.rerun_pool(session, actor=actor, rules=rules(), pool_id=pool_id, at=utcnow())
    session.commit()
    return jsonify(dump_pool(pool))


@bp.post("/pools/<int:pool_id>/members")
@doc("手工加入培育库（须说明理由）", body=MemberIn, response=MemberOut, status=201, errors=WRITE_ERRORS)
@requires(Action.WRITE)
def add_member(pool_id: int):
    """Put an enterprise in the pool by hand, with the reason."""
    data, session = load(MemberIn()), get_session()
    member = pipeline.add_candidate(session, actor=current_actor(), rules=rules(), pool_id=pool_id,
                                    enterprise_id=data["enterprise_id"], reason=data["reason"], at=utcnow())
    session.commit()
    return jsonify(dump_member(member)), 201


@bp.delete("/pools/<int:pool_id>/members/<int:enterprise_id>")
@doc("移出培育库（须说明理由；核查报告保留）", body=ReasonIn, response=MemberOut, errors=WRITE_ERRORS)
@requires(Action.WRITE)
def remove_member(pool_id: int, enterprise_id: int):
    """Take an enterprise out of the pool, with the reason."""
    data, session = load(ReasonIn()), get_session()
    member = pipeline.remove_candidate(session, actor=current_actor(), pool_id=pool_id, enterprise_id=enterprise_id,
                                       reason=data["reason"], at=utcnow())
    session.commit()
    return jsonify(dump_member(member))


@bp.get("/pools/<int:pool_id>/export.xlsx")
@doc("导出培育库（Excel：在库企业每项条件一行；“未入库”表每家未入库企业每条原因一行）", response=PoolOut, content=XLSX)
@requires(Action.READ)
def export_pool(pool_id: int):
    """Download the pool's members in the caller's region with their criteria reports."""
    actor = current_actor()
    pool = pipeline.get_pool(get_session(), actor, pool_id)  # 404 here, before the download starts
    label, name = tier_label(pool.tier, pool.policy_code), f"pool-{pool.id}-{pool.year}.xlsx"

    def produce(session: Session, out: IO[bytes]) -> int:
        """Write the workbook from the download's own session; return its rows."""
        def left_out() -> Iterator[tuple[Any, ...]]:
            for page in range(1, 10**6):
                rows, _ = pipeline.pool_verdicts(session, actor=actor, pool_id=pool_id, standing="out", page=page,
                                                 per_page=1000)
                yield from rows
                if len(rows) < 1000:
                    return

        return write_pool_xlsx(pipeline.get_pool(session, actor, pool_id),
                               pipeline.pool_members(session, actor=actor, pool_id=pool_id), label, out, left_out())

    return spooled_download(produce, region_code=actor.region_code, name=name, fallback=name,
                            audited=Audited(actor, "export.pool", "pool", pool_id))

