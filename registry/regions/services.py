"""Moving enterprises off GB/T 2260 codes that were changed (撤并, 更名, 改码), with audit."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session

from registry.audit import trail as audit
from registry.domain.actors import Action, Actor, require
from registry.enterprises.models import Enterprise
from registry.regions.models import Region, RegionCodeChange
from registry.regions.reference import successor


@dataclass(frozen=True)
class Move:
    """One enterprise moved (or, in a dry run, to be moved) from an old code to the current one."""

    enterprise_id: int
    name: str
    old_code: str
    new_code: str
    new_name: str
    year: int
    source: str


def migrate_codes(session: Session, *, actor: Actor, at: datetime, dry_run: bool = False,
                  old_code: str | None = None) -> tuple[list[Move], list[str]]:
    """Move every enterprise registered under a changed code to the code in force.

    Returns the moves and the codes that could not be followed (several successors, or a
    successor not in the loaded tree). Each move is one audit event `enterprise.region_recoded`
    naming the change's source as its basis; a dry run writes nothing.
    """
    require(actor, Action.WRITE)
    olds = sorted(set(session.scalars(sa.select(RegionCodeChange.old_code))))
    if old_code is not None:
        olds = [c for c in olds if c == old_code]
    moves: list[Move] = []
    skipped: list[str] = []
    for old in olds:
        enterprises = session.scalars(sa.select(Enterprise).where(Enterprise.region_code == old)
                                      .order_by(Enterprise.id)).all()
        if not enterprises:
            continue
        moved = successor(session, old)
        target = session.get(Region, moved.code) if moved is not None else None
        if moved is None or target is None:
            skipped.append(old)
            continue
        last = moved.steps[-1]
        for ent in enterprises:
            moves.append(Move(ent.id, ent.name, old, moved.code, target.name, last.effective_year, last.source))
            if dry_run:
                continue
            ent.region_code = moved.code
            ent.updated_at = at
            for cert in ent.certifications:
                cert.region_code = moved.code
            session.flush()
            audit.record(session, actor=actor, action="enterprise.region_recoded", entity_type="enterprise",
                         entity_id=ent.id, enterprise_id=ent.id, region_code=moved.code,
                         changes={"region_code": [old, moved.code]}, at=at,
                         why=audit.Why(reason_code=f"region_{last.kind}", document_no=last.source[:200],
                                       note=f"行政区划代码 {old} 于{last.effective_year}年变更为 {moved.code}（{target.name}）"))
    return moves, skipped
