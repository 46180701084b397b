"""Matching the names of a list against the registry: a match, candidates, or nothing, for an officer to confirm.

For each row, within the officer's region:

1. Exact: the registry enterprises whose name has the row's key (registry/domain/names.py: widths,
   brackets, 有限公司/有限责任公司, spaces). Found by an indexed lookup of the spellings a register holds
   (`lookup_forms`, all rows at once) and among the similar names below. Exactly one such enterprise,
   lying inside the row's 省份/地区 when the row names one that is recognised, is the row's match.
   Two or more (the same name registered twice) are candidates — never a match; one outside the
   row's region is a candidate with a note.
2. Similar: enterprises whose name contains a distinctive part of the row's name (`search_words`;
   served by the pg_trgm index on PostgreSQL), inside the row's region when it is recognised, scored
   by `similarity`; those scoring at least MIN_SCORE, best first, MAX_CANDIDATES at most.

Nothing is written here; the officer confirms each row (registry/roster/namelists/confirm.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from registry.domain.actors import Actor, in_scope
from registry.domain.names import lookup_forms, name_key, search_words, similarity
from registry.domain.regions import contains
from registry.enterprises.models import Enterprise
from registry.enterprises.queries import in_region
from registry.roster.bulk import chunked
from registry.roster.imports.lookups import Regions
from registry.roster.namelists.reading import ListedRow

MAX_CANDIDATES = 5  #: candidates shown for a row
POOL = 200  #: registry names looked at per row for similar ones
MIN_SCORE = 0.6  #: similarity a candidate needs (1.0: the same key)
_SUFFIXES = ("省", "市", "自治区")  #: 浙江 → 浙江省, 重庆 → 重庆市, 广西 → 广西…自治区 is not guessed

MATCH, CANDIDATES, NONE = "match", "candidates", "none"


@dataclass(frozen=True)
class Found:
    """A registry enterprise as a row's match or candidate."""

    id: int
    name: str
    uscc: str
    region_code: str

    def as_json(self, score: float) -> dict[str, Any]:
        """Return the candidate as stored on the list's row."""
        return {"id": self.id, "name": self.name, "uscc": self.uscc, "region_code": self.region_code,
                "score": round(score, 3)}


_COLUMNS = (Enterprise.id, Enterprise.name, Enterprise.uscc, Enterprise.region_code)


def resolve_region(regions: Regions, actor: Actor, text: str | None) -> str | None:
    """Return the region a row's 省份/地区 names, or None when it names none or several.

    A name shared by several divisions (鼓楼区) is taken as the one inside the officer's region, when
    exactly one is.
    """
    if not text:
        return None
    written = "".join(text.split())
    if written.isdigit() and len(written) == 6:
        code = regions.current(written)
        return code if code in regions.names else None
    for form in (written, *(written + s for s in _SUFFIXES)):
        codes = regions.by_name.get(form, set())
        if len(codes) > 1:
            codes = {c for c in codes if in_scope(actor, c)}
        if len(codes) == 1:
            return next(iter(codes))
        if codes:
            return None
    return None


def match_rows(session: Session, actor: Actor, rows: list[ListedRow]) -> list[dict[str, Any]]:
    """Return each row as read, with its region, match, candidates and notes (see the module doc)."""
    regions = Regions(session)
    forms = {row.row: lookup_forms(row.name) for row in rows}
    by_name: dict[str, list[Found]] = {}
    wanted = sorted({f for fs in forms.values() for f in fs})
    for chunk in chunked(wanted, 500):
        stmt = sa.select(*_COLUMNS).where(Enterprise.name.in_(chunk), in_region(Enterprise.region_code,
                                                                                actor.region_code))
        for found in session.execute(stmt):
            by_name.setdefault(found.name, []).append(Found(*found))
    return [_match(session, actor, regions, row, {f.id: f for form in forms[row.row] for f in by_name.get(form, [])})
            for row in rows]


def _match(session: Session, actor: Actor, regions: Regions, row: ListedRow,
           exact: dict[int, Found]) -> dict[str, Any]:
    notes: list[str] = []
    region = resolve_region(regions, actor, row.region_text)
    if row.region_text and region is None:
        notes.append(f"地区「{row.region_text}」无法唯一识别，未用于缩小候选范围")
    key = name_key(row.name)
    similar = _similar(session, actor, row.name, region)
    exact |= {f.id: f for f, score in similar if score == 1.0}
    same = sorted(exact.values(), key=lambda f: f.id)
    inside = [f for f in same if region is None or contains(region, f.region_code)]
    scored = [(f, 1.0) for f in same] + [(f, s) for f, s in similar if f.id not in exact]
    candidates = [f.as_json(s) for f, s in scored[:MAX_CANDIDATES]]
    kind, match_id = (CANDIDATES if candidates else NONE), None
    if len(same) == 1 and len(inside) == 1:
        kind, match_id = MATCH, same[0].id
    elif len(same) > 1:
        notes.append(f"登记中有 {len(same)} 家企业名称相同，请核对统一社会信用代码后选择")
    elif same:
        where = regions.full.get(same[0].region_code, same[0].region_code)
        notes.append(f"名称相同的企业登记在{where}，与名单所列地区「{row.region_text}」不符，请核实")
    return {"row": row.row, "seq": row.seq, "region_text": row.region_text, "region_code": region,
            "name": row.name, "key": key, "kind": kind, "match_id": match_id, "candidates": candidates,
            "notes": notes}


def _like(word: str) -> str:
    return "%" + word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def _similar(session: Session, actor: Actor, name: str, region: str | None) -> list[tuple[Found, float]]:
    """Return the registry names like `name` (inside `region` when given), best first, with their scores."""
    words = search_words(name)
    if not words:
        return []
    stmt = (sa.select(*_COLUMNS)
            .where(sa.or_(*(Enterprise.name.like(_like(w), escape="\\") for w in words)),
                   in_region(Enterprise.region_code, actor.region_code))
            .order_by(Enterprise.id).limit(POOL))
    if region is not None:
        stmt = stmt.where(in_region(Enterprise.region_code, region))
    scored = [(Found(*found), similarity(name, found.name)) for found in session.execute(stmt)]
    return sorted([fs for fs in scored if fs[1] >= MIN_SCORE], key=lambda fs: (-fs[1], fs[0].id))
