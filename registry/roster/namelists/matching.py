"""Matching the names of a list against the registry: a match, candidates, or nothing, for an officer to confirm.

For each row, within the officer's region:

1. Exact: the registry enterprises whose name has the row's key (registry/domain/names.py: widths,
   brackets, 有限公司/有限责任公司, spaces). In memory (class Names) every name's key is known; by SQL
   (a region of more than IN_MEMORY enterprises) they are found by an indexed lookup of the spellings
   a register holds (`lookup_forms`, all rows at once) and among the similar names below. Exactly one such enterprise,
   lying inside the row's 省份/地区 when the row names one that is recognised, is the row's match.
   Two or more (the same name registered twice) are candidates — never a match; one outside the
   row's region is a candidate with a note.
2. Similar: enterprises whose name contains a distinctive part of the row's name (`search_words`:
   the longest part first, its halves only when that found nothing alike; served by the pg_trgm
   index on PostgreSQL), inside the row's region when it is recognised; the COMPARED closest by
   character pairs (`bigram_overlap`) are scored by `key_similarity` (difflib);
   those scoring at least MIN_SCORE, best first, MAX_CANDIDATES at most.

Nothing is written here; the officer confirms each row (registry/roster/namelists/services.py).
"""

from __future__ import annotations

import bisect
import itertools
import re
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from registry.domain.actors import Actor, in_scope
from registry.domain.names import bigram_overlap, key_similarity, lookup_forms, name_key, search_words
from registry.domain.regions import contains
from registry.enterprises.models import Enterprise
from registry.enterprises.queries import in_region
from registry.roster.bulk import chunked
from registry.roster.imports.lookups import Regions
from registry.roster.namelists.reading import ListedRow

MAX_CANDIDATES = 5  #: candidates shown for a row
POOL = 200  #: registry names looked at per row for similar ones
IN_MEMORY = 200_000  #: enterprises in the officer's region up to which names are searched in memory (class Names)
MIN_SCORE = 0.6  #: similarity a candidate needs (1.0: the same key)
COMPARED = 20  #: of a row's POOL names, the closest by character pairs are compared in full
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


class Names:
    """The registry names in the officer's region, asked for by key and by part.

    Up to IN_MEMORY enterprises (a city's or a province's register) are read once and searched in
    memory: every name by its key, the parts by one regular-expression pass over all names, in id
    order — the same answers as the queries below, without a query per row. A larger region (a
    nationwide register) is asked row by row: the spellings by an indexed IN, the parts by LIKE
    (served by the pg_trgm index on PostgreSQL).
    """

    def __init__(self, session: Session, actor: Actor, in_memory: int | None = None) -> None:
        self.session, self.actor = session, actor
        limit = IN_MEMORY if in_memory is None else in_memory
        scope = in_region(Enterprise.region_code, actor.region_code)
        count = session.scalar(sa.select(sa.func.count()).select_from(Enterprise).where(scope)) or 0
        self.loaded: list[Found] | None = None
        self.keys: dict[int, str] = {}  #: each loaded name's key, worked out once
        if count <= limit:
            self.loaded = [Found(*r) for r in session.execute(sa.select(*_COLUMNS).where(scope).order_by(Enterprise.id))]
            self.by_key: dict[str, list[Found]] = {}
            for found in self.loaded:
                key = self.keys[found.id] = name_key(found.name)
                self.by_key.setdefault(key, []).append(found)
            self.blob = "\n".join(f.name for f in self.loaded)
            self.starts = list(itertools.accumulate((len(f.name) + 1 for f in self.loaded[:-1]), initial=0))
        self.by_form: dict[str, list[Found]] = {}

    def prepare(self, rows: list[ListedRow]) -> None:
        """Look up the spellings of every row at once (the SQL way only)."""
        if self.loaded is not None:
            return
        wanted = sorted({f for row in rows for f in lookup_forms(row.name)})
        for chunk in chunked(wanted, 500):
            stmt = sa.select(*_COLUMNS).where(Enterprise.name.in_(chunk),
                                              in_region(Enterprise.region_code, self.actor.region_code))
            for found in self.session.execute(stmt):
                self.by_form.setdefault(found.name, []).append(Found(*found))

    def key_of(self, found: Found) -> str:
        """Return the key of a found name (remembered when loaded)."""
        key = self.keys.get(found.id)
        return key if key is not None else name_key(found.name)

    def same_key(self, name: str) -> dict[int, Found]:
        """Return the enterprises found with the key of `name` (all of them in memory; the usual spellings by SQL)."""
        if self.loaded is not None:
            return {f.id: f for f in self.by_key.get(name_key(name), [])}
        return {f.id: f for form in lookup_forms(name) for f in self.by_form.get(form, [])}

    def containing(self, words: list[str], region: str | None) -> list[Found]:
        """Return the first POOL enterprises (by id) whose name contains one of `words`, inside `region`."""
        if self.loaded is None:
            stmt = (sa.select(*_COLUMNS)
                    .where(sa.or_(*(Enterprise.name.like(_like(w), escape="\\") for w in words)),
                           in_region(Enterprise.region_code, self.actor.region_code))
                    .order_by(Enterprise.id).limit(POOL))
            if region is not None:
                stmt = stmt.where(in_region(Enterprise.region_code, region))
            return [Found(*found) for found in self.session.execute(stmt)]
        found: list[Found] = []
        last = -1
        pattern = re.compile("|".join(map(re.escape, sorted(words, key=len, reverse=True))))
        for hit in pattern.finditer(self.blob):
            index = bisect.bisect_right(self.starts, hit.start()) - 1
            if index == last:
                continue
            last = index
            candidate = self.loaded[index]
            if region is None or contains(region, candidate.region_code):
                found.append(candidate)
                if len(found) == POOL:
                    break
        return found


def match_rows(session: Session, actor: Actor, rows: list[ListedRow],
               in_memory: int | None = None) -> list[dict[str, Any]]:
    """Return each row as read, with its region, match, candidates and notes (see the module doc).

    `in_memory` overrides IN_MEMORY (tests take the SQL way with 0).
    """
    regions = Regions(session)
    names = Names(session, actor, in_memory)
    names.prepare(rows)
    return [_match(names, actor, regions, row) for row in rows]


def _match(names: Names, actor: Actor, regions: Regions, row: ListedRow) -> dict[str, Any]:
    notes: list[str] = []
    region = resolve_region(regions, actor, row.region_text)
    if row.region_text and region is None:
        notes.append(f"地区「{row.region_text}」无法唯一识别，未用于缩小候选范围")
    key = name_key(row.name)
    exact = names.same_key(row.name)
    similar = _similar(names, row.name, region)
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


def _similar(names: Names, name: str, region: str | None) -> list[tuple[Found, float]]:
    """Return the registry names like `name` (inside `region` when given), best first, with their scores."""
    words, key = search_words(name), name_key(name)
    scored: dict[int, tuple[Found, float]] = {}
    # the longest part first (selective: most rows are found by it); the shorter parts only when it found
    # nothing alike, for they match many more names
    for batch in (words[:1], words[1:]):
        if not batch or any(s >= MIN_SCORE for _, s in scored.values()):
            break
        hits = [(found, names.key_of(found)) for found in names.containing(batch, region) if found.id not in scored]
        closest = sorted(hits, key=lambda h: (-bigram_overlap(key, h[1]), h[0].id))[:COMPARED]
        for found, other in closest:
            scored[found.id] = (found, key_similarity(key, other, MIN_SCORE))
    return sorted([fs for fs in scored.values() if fs[1] >= MIN_SCORE], key=lambda fs: (-fs[1], fs[0].id))
