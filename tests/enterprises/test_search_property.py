"""The roster search against a naive Python filter (issue 19 follow-up): on SQLite and PostgreSQL, for generated
rosters and queries — hostile ones included (SQL wildcards, quotes, backslash, zero-width and full-width
characters, emoji, Latin letters outside ASCII, mixed scripts, USCC fragments in either case) — the search finds
exactly the enterprises the filter below keeps, so both backends agree.

The filter is the documented contract of `q` (registry/enterprises/queries.py, the API's description): every word
of `search_terms(q)` is inside the name, case-insensitively, as typed or with its letters and digits in full width,
or (letters and digits only) inside the USCC. Case-insensitive is Python's `str.lower` on both sides; the
alphabet leaves out the few letters whose lower case PostgreSQL's per-character `lower()` spells otherwise
(Kelvin sign, dotted İ, Greek final sigma)."""

from __future__ import annotations

import sqlalchemy as sa
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from registry.domain.personal import looks_like_email, looks_like_phone
from registry.domain.text import search_terms, widen
from registry.enterprises.queries import RosterFilter, roster_select
from tests.conftest import d
from tests.factories import make_enterprise, make_uscc

TODAY = d("2026-06-01")

#: letters a name is made of: hanzi (simplified and traditional), ASCII and full-width letters and digits,
#: Latin, Greek and Cyrillic letters with case, emoji, spaces, punctuation SQL treats specially
ALPHABET = ("精密科技杭州臺灣機械有限公司" "abcABCxyzXYZ019" "ａｂｃＡＢＣ０１９" "ÄäÖößẞÉéŒœ" "ΩωΔδ" "ДдЖж"
            "😀𠀀" " \u3000" "%_\\'\"（）-.")
CHARS = st.sampled_from(ALPHABET)
NAMES = st.lists(st.text(CHARS, min_size=2, max_size=12).filter(lambda n: len(n.strip()) >= 2),
                 min_size=1, max_size=5)
#: characters the search drops or splits on
NOISE = st.sampled_from(["", " ", "\u3000", "\u200b", "\ufeff", "\t"])


def expected(ents, q: str) -> set[int]:
    words = search_terms(q)

    def matches(word: str, name: str, uscc: str) -> bool:
        if any(form.lower() in name.lower() for form in (word, widen(word))):
            return True
        code = word.upper()
        return code.isascii() and code.isalnum() and code in uscc

    return {e.id for e in ents if all(matches(w, e.name, e.uscc) for w in words)}


@st.composite
def queries(draw, ents):
    """A query: fragments of the names and USCCs, in other cases and widths, with noise between; or random text."""
    words = []
    for _ in range(draw(st.integers(1, 3))):
        source = draw(st.sampled_from([e.name for e in ents] + [e.uscc for e in ents]))
        start = draw(st.integers(0, len(source) - 1))
        piece = source[start:start + draw(st.integers(1, 4))]
        piece = draw(st.sampled_from([piece, piece.lower(), piece.upper(), piece.swapcase(), widen(piece)]))
        words.append(piece if draw(st.booleans()) else draw(st.text(CHARS, min_size=1, max_size=3)))
    noise = draw(NOISE)
    return noise + draw(st.sampled_from([" ", "\u3000", "  "])).join(words) + draw(NOISE)


def found(session, q: str) -> set[int]:
    stmt = roster_select(RosterFilter(q=q), TODAY).with_only_columns(sa.literal_column("enterprises.id"))
    return set(session.scalars(stmt))


@settings(max_examples=60, deadline=None, database=None, derandomize=True, phases=[Phase.explicit, Phase.generate],
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(data=st.data(), names=NAMES)
def test_the_search_finds_what_a_python_substring_filter_finds(session, admin, data, names):
    savepoint = session.begin_nested()
    try:
        ents = [make_enterprise(session, admin, uscc=make_uscc("331002", 700_000 + i), name=name)
                for i, name in enumerate(names)]
        session.flush()
        for _ in range(8):
            q = data.draw(queries(ents))
            if looks_like_phone(q) or looks_like_email(q) or any(looks_like_phone(w) for w in search_terms(q)):
                continue  # those also match the contacts' blind index: not a substring search
            assert found(session, q) & {e.id for e in ents} == expected(ents, q), (q, [e.name for e in ents])
    finally:
        savepoint.rollback()
