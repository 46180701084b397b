"""Read-side queries: the roster filters, as-of holders, and the region prefix filter every list uses."""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import date, timedelta
from typing import TypeVar

import sqlalchemy as sa
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import InstrumentedAttribute, Session, defer
from sqlalchemy.sql.visitors import InternalTraversal

from registry.domain.actors import Actor, require_scope
from registry.domain.errors import NotFound
from registry.domain.lifecycle import LIVE
from registry.domain.personal import CONTACT_FIELDS, looks_like_email, looks_like_phone
from registry.domain.regions import code_range
from registry.domain.text import clean_text, narrow, search_terms, widen
from registry.enterprises.models import Enterprise
from registry.platform.db import plan_each, run_compiled
from registry.platform.pi_crypto import blind_index
from registry.regions.scoping import scope_of, scoped
from registry.titles.models import Certification, CertificationTerm

Bound = TypeVar("Bound")  #: a model with a region_code column


def get_in_region(session: Session, actor: Actor, model: type[Bound], entity_id: int, what: str,
                  english: str) -> Bound:
    """Load a region-bound row by id inside the actor's region; missing or outside is NotFound naming `what`."""
    found = session.get(model, entity_id)
    if found is None:
        raise NotFound(f"{what}不存在 / {english} not found")
    require_scope(actor, found.region_code, what)  # type: ignore[attr-defined]
    return found


def in_region(column: InstrumentedAttribute[str], region_code: str | None) -> sa.ColumnElement[bool]:
    """Filter a region-code column to a node of the tree (000000 or None: everywhere)."""
    if not region_code or region_code == "000000":
        return sa.true()
    low, high = code_range(region_code)
    return column.between(low, high)


def valid_on(day: date) -> sa.ColumnElement[bool]:
    """Terms valid on `day` of titles that had not ended by then (joins terms to titles)."""
    return sa.and_(
        CertificationTerm.valid_from <= day,
        sa.or_(CertificationTerm.valid_until.is_(None), CertificationTerm.valid_until >= day),
        sa.or_(Certification.ended_on.is_(None), Certification.ended_on > day),
    )


def holders_as_of(tier: str, day: date, region_code: str | None = None) -> sa.Select:
    """Select enterprises that held `tier` valid on `day` in `region_code`, exactly."""
    held = (sa.select(Certification.enterprise_id)
            .join(CertificationTerm, CertificationTerm.certification_id == Certification.id)
            .where(Certification.tier == tier, valid_on(day), in_region(Certification.region_code, region_code)))
    return sa.select(Enterprise).where(Enterprise.id.in_(held)).order_by(Enterprise.id)


@dataclass(frozen=True)
class RosterFilter:
    """The filters of the roster page, GET /enterprises, GET /certifications and the export."""

    q: str | None = None
    region: str | None = None
    tier: str | None = None
    status: str | None = None
    expiring_within_days: int | None = None
    as_of: date | None = None
    sort: str = "name"
    programme: str | None = None  #: the titles of one programme (national, zhejiang_key_little_giant, …)
    #: holder kind (docs/holders.md): enterprise or zone (the record's kind), product (holds a product title)
    holder: str | None = None
    #: only these enterprises (the roster's selection, exported); None: no such restriction
    ids: tuple[int, ...] | None = None


HOLDER_FILTERS = ("enterprise", "zone", "product")


SORTS = {"name": (Enterprise.name, Enterprise.id), "uscc": (Enterprise.uscc,), "region": (Enterprise.region_code, Enterprise.id),
         "id": (Enterprise.id,), "-id": (Enterprise.id.desc(),)}


#: the live statuses as one bound value each, `IN (?, ?)`: a list of plain values is an "expanding" IN, whose SQL is
#: rewritten for its values at every execution (bench/RESULTS.md, pagefast)
_LIVE_VALUES = tuple(sa.literal(s.value, Certification.status.type) for s in sorted(LIVE))


def certification_conditions(f: RosterFilter, today: date) -> list[sa.ColumnElement[bool]]:
    """Conditions on Certification (and terms for as_of) that the filter implies."""
    conditions: list[sa.ColumnElement[bool]] = []
    if f.holder == "product":
        conditions.append(Certification.holder == "product")
    if f.tier:
        conditions.append(Certification.tier == f.tier)
    if f.programme:
        conditions.append(Certification.programme == f.programme)
    if f.status:
        conditions.append(Certification.status == f.status)
    if f.expiring_within_days is not None:
        conditions += [Certification.status.in_(_LIVE_VALUES),
                       Certification.valid_until.between(today, today + timedelta(days=f.expiring_within_days))]
    if f.as_of is not None:
        conditions.append(Certification.id.in_(
            sa.select(CertificationTerm.certification_id).where(valid_on(f.as_of))))
    return conditions


def _like(word: str) -> str:
    """A LIKE pattern matching `word` anywhere, its own % _ and \\ literal (escape character \\)."""
    return "%" + word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


#: the length of a word the name's bigram index serves (migration 0035): shorter has no pair, longer has
#: trigrams, which narrow better (bench/RESULTS.md, issue 19)
BIGRAM_LENGTHS = frozenset({2})


class CommonPairs:
    """The character pairs found in at least `SHARE` of the names, by PostgreSQL's statistics of the pair index
    (the most common elements ANALYZE records for `registry_bigrams(name)`), re-read at most every `MAX_AGE`
    seconds per process.

    A two-character word of such a pair (有限, 公司, often 科技) is searched without the pair test: PostgreSQL then
    expects most of the table to match, plans a scan, and would compute `registry_bigrams(name)` for every row
    it reads (7–9 s at 300,000 names, against 0.3 s for the ILIKE alone; bench/RESULTS.md, breakit); a rarer
    pair keeps the index (20 ms at 1,000,000). The results are the same either way: the pair test never drops
    a match (`NameContains`). Until read (and on SQLite, and in a CLI command) the set is empty: every
    two-character word gets the pair test, as before."""

    SHARE = 0.10
    MAX_AGE = 600.0
    _READ = sa.text("SELECT most_common_elems::text::text[], most_common_elem_freqs FROM pg_stats "
                    "WHERE schemaname = current_schema() AND tablename = 'ix_enterprises_name_bigrams'")

    def __init__(self) -> None:
        self.pairs: frozenset[str] = frozenset()
        self._read_at: float | None = None

    def due(self, now: float) -> bool:
        """Whether the statistics were never read or are older than `MAX_AGE` (`now`: time.monotonic())."""
        return self._read_at is None or now - self._read_at >= self.MAX_AGE

    def refresh(self, session: Session, *, now: float | None = None) -> None:
        """Re-read the statistics if `due`."""
        now = time.monotonic() if now is None else now
        if not self.due(now):
            return
        self._read_at = now
        if session.get_bind().dialect.name != "postgresql":
            return
        row = session.execute(self._READ).first()
        self.pairs = frozenset() if row is None or row[0] is None else frozenset(
            pair for pair, share in zip(row[0], row[1], strict=False) if share >= self.SHARE)


COMMON_PAIRS = CommonPairs()


def _ascii_case_only(word: str) -> bool:
    """True if SQLite's LIKE, which folds the case of ASCII letters only, compares `word` case-insensitively:
    no letter outside ASCII has another case (hanzi, digits and punctuation have none; Ä, é, Ｂ do)."""
    return all(c.isascii() or c.lower() == c.upper() for c in word)


class NameContains(sa.ColumnElement[bool]):
    """The name contains `word`, case-insensitively, wildcards literal — the same rows on both backends.

    PostgreSQL: `name ILIKE '%word%'`, which compares `lower()` of both sides (every letter, Ä and Ｂ included,
    on a UTF-8 database); for a word of two characters with `registry_bigrams(name) @> registry_bigrams(word)`
    beside it, which the GIN index of migration 0035 serves (a two-character word has no trigram). The pairs
    are taken from `lower()`: every name the ILIKE accepts passes the pair test, so the results are the same
    with or without it (tests/enterprises/test_search_bigrams.py).

    SQLite: its LIKE folds ASCII letters only (and its `lower()` too), so a word with a letter outside ASCII
    that has a case (é, Ä, the full-width Ｂ of `widen`) is compared with Python's `str.lower` on both sides
    (`registry_lower`, registered on each connection by registry/platform/db.py); any other word keeps the
    plain LIKE, which costs less than half (tests/enterprises/test_search_property.py)."""

    type = sa.Boolean()
    inherit_cache = True
    _is_implicitly_boolean = True  # a comparison: SQLite's WHERE gets no "= 1"
    _traverse_internals = [("scanned", InternalTraversal.dp_clauseelement),
                           ("indexed", InternalTraversal.dp_clauseelement)]

    def __init__(self, word: str, *, paired: bool = True) -> None:
        like = Enterprise.name.ilike(_like(word), escape="\\")
        if paired and len(word) in BIGRAM_LENGTHS:
            pairs = sa.func.registry_bigrams(Enterprise.name).op("@>", is_comparison=True)(
                sa.func.registry_bigrams(word))
            self.indexed: sa.ColumnElement[bool] = sa.and_(like, pairs).self_group()
        else:
            self.indexed = like
        if _ascii_case_only(word):
            self.scanned: sa.ColumnElement[bool] = Enterprise.name.like(_like(word), escape="\\")
        else:
            self.scanned = sa.func.registry_lower(Enterprise.name).like(_like(word.lower()), escape="\\")

    @property
    def _from_objects(self) -> list[sa.FromClause]:  # the FROM a statement derives from its WHERE
        return self.indexed._from_objects


@compiles(NameContains)
def _scanned(element: NameContains, compiler: sa.sql.compiler.SQLCompiler, **kw: object) -> str:
    return compiler.process(element.scanned, **kw)


@compiles(NameContains, "postgresql")
def _indexed(element: NameContains, compiler: sa.sql.compiler.SQLCompiler, **kw: object) -> str:
    return compiler.process(element.indexed, **kw)


def _word_matches(word: str) -> sa.ColumnElement[bool]:
    """One search word: inside the name (case-insensitive, as typed, or with its letters and digits in
    either width) or inside the USCC (letters and digits only).

    A word that may be part of a USCC is checked row by row on PostgreSQL whatever its name conditions (a USCC
    fragment of one or two characters has no trigram), so its name conditions get no pair test: that would only
    add `registry_bigrams(name)` for every row (tests/enterprises/test_search_bigrams.py); nor does a word
    whose pair is in most names (`CommonPairs`)."""
    code = word.upper()
    in_code = code.isascii() and code.isalnum()
    found: list[sa.ColumnElement[bool]] = [NameContains(form, paired=not in_code and form.lower() not in COMMON_PAIRS.pairs)
                                           for form in dict.fromkeys((word, widen(word)))]
    if in_code:
        found.append(Enterprise.uscc.like(_like(code), escape="\\"))
    if looks_like_phone(word):
        found.append(Enterprise.contact_phone_index == blind_index("phone", word))
    if looks_like_email(word):
        found.append(Enterprise.contact_email_index == blind_index("email", word))
    return sa.or_(*found)


def _text_search(q: str) -> sa.ColumnElement[bool] | None:
    """Every word of `q` (registry/domain/text.py search_terms) inside the name or the USCC; a phone
    number or an e-mail address — the whole query or one word — also finds the contact's exact value
    through its blind index (the contact columns are ciphertext: no LIKE on them, issue 16 §6).

    PostgreSQL serves the substring matches from the trigram indexes of migration 0019 (words of
    three characters or more) and a name's two-character words from the bigram index of migration 0035
    (`NameContains`); a one-character word, or a two-character one that may also be part of a USCC (letters
    and digits), is checked row by row. SQLite scans.
    """
    words = search_terms(q)
    if not words:
        return None
    every = sa.and_(*(_word_matches(word) for word in words))
    whole = narrow(clean_text(q))
    exact: list[sa.ColumnElement[bool]] = []
    if len(words) > 1 and looks_like_phone(whole):
        exact.append(Enterprise.contact_phone_index == blind_index("phone", whole))
    return sa.or_(every, *exact) if exact else every


def masked_only() -> tuple[sa.orm.interfaces.LoaderOption, ...]:
    """The loader options of a list that shows contacts masked (or not at all): the encrypted contact columns are
    left unread, so nothing is decrypted; the stored masked forms are read instead (issue 19)."""
    return tuple(defer(getattr(Enterprise, field)) for field in CONTACT_FIELDS)


def roster_select(f: RosterFilter, today: date) -> sa.Select:
    """Select enterprises matching the filter (region scoping is added by the session)."""
    stmt = sa.select(Enterprise).where(in_region(Enterprise.region_code, f.region))
    if f.holder in ("enterprise", "zone"):
        stmt = stmt.where(Enterprise.holder_kind == f.holder)
    if f.ids is not None:
        stmt = stmt.where(Enterprise.id.in_(f.ids))
    found = _text_search(f.q) if f.q else None
    if found is not None:
        stmt = plan_each(stmt.where(found))  # a LIKE pattern: never a generic plan (registry/platform/db.py)
    conditions = certification_conditions(f, today)
    if conditions:
        # Titles carry their enterprise's region (kept in step when it moves): the same range on
        # the subquery lets the title indexes narrow by region too.
        stmt = stmt.where(Enterprise.id.in_(sa.select(Certification.enterprise_id).where(
            in_region(Certification.region_code, f.region), *conditions)))
    return stmt.order_by(*SORTS.get(f.sort, SORTS["name"]))


def certification_select(f: RosterFilter, today: date) -> sa.Select:
    """Select titles matching the filter, soonest expiry first."""
    stmt = sa.select(Certification).where(in_region(Certification.region_code, f.region), *certification_conditions(f, today))
    if f.holder in ("enterprise", "zone"):
        stmt = stmt.where(Certification.enterprise_id.in_(
            sa.select(Enterprise.id).where(Enterprise.holder_kind == f.holder)))
    found = _text_search(f.q) if f.q else None
    if found is not None:
        stmt = plan_each(stmt.join(Certification.enterprise).where(found))
    return stmt.order_by(Certification.valid_until.is_(None), Certification.valid_until, Certification.id)


def paginate(session: Session, stmt: sa.Select, page: int, per_page: int,
             count_by: sa.ColumnElement | None = None) -> tuple[list, int]:
    """Return one page of `stmt`'s rows and the total count.

    `count_by`: `stmt` selects columns (not one entity), and the count selects only this one (the key);
    the page's rows are then result rows, not objects (read as `page_statements` and `read_page` do).
    """
    if count_by is not None:
        return read_page(session, page_statements(stmt, count_by, scope_of(session)), page, per_page)
    total = session.scalar(_count(stmt))
    paged = stmt.limit(per_page).offset((page - 1) * per_page)
    return list(session.scalars(paged).all()), total or 0


def _count(stmt: sa.Select) -> sa.Select:
    return (sa.select(sa.func.count()).select_from(stmt.order_by(None).subquery())
            .execution_options(**stmt.get_execution_options()))  # e.g. plan_each


def page_statements(stmt: sa.Select, count_by: sa.ColumnElement, prefix: str | None) -> tuple[sa.Select, sa.Select]:
    """The count (of `count_by` only) and the page of `stmt` (a select of columns) in the region scope of `prefix`
    (`scope_of` the session), the page's LIMIT and OFFSET bound by `read_page`: a caller may keep the pair and run
    it again for any page, without building the statements or their cache keys anew (bench/RESULTS.md, pagefast)."""
    paged = stmt.limit(sa.bindparam("page_limit", type_=sa.Integer)).offset(
        sa.bindparam("page_offset", type_=sa.Integer))
    # rows are read by name: SQLAlchemy need not re-key a cached compilation's result columns to this statement's
    # column objects (what the ORM's own executions skip the same way; ~400 calls a page, pagefast)
    paged = paged.execution_options(_result_disable_adapt_to_context=True)
    return scoped(_count(stmt.with_only_columns(count_by)), prefix), scoped(paged, prefix)


def read_page(session: Session, statements: tuple[sa.Select, sa.Select], page: int,
              per_page: int) -> tuple[list[sa.Row], int]:
    """Run `page_statements` on the session's connection (its transaction): rows and the total count. Past the
    ORM session's execution (its events, ORM results), which cost as much as the SQL of a roster page; the region
    scope is already in the statements."""
    count, paged = statements
    conn = session.connection()
    total = run_compiled(conn, count).scalar()
    rows = run_compiled(conn, paged, {"page_limit": per_page, "page_offset": (page - 1) * per_page}).all()
    return rows, total or 0
