"""Two-character search words at a million enterprises (issue 19): a GIN index on the name's character pairs.

Chinese officers mostly type two-character words (精密, 科技, 杭州): such a pattern has no trigram, so the
trigram index of migration 0019 cannot narrow `name ILIKE '%精密%'` and PostgreSQL read every name (p95 12 s
at 1,000,000 under load). `registry_bigrams(text)` returns the distinct overlapping two-character substrings of
`lower(text)`; a GIN index on `registry_bigrams(name)` serves `registry_bigrams(name) @> registry_bigrams(word)`,
which the search adds beside its ILIKE for a word of two characters (registry/enterprises/queries.py). ILIKE
stays the exact test: on a UTF-8 database it compares `lower()` of both sides, so a name containing the word
contains every pair of the word's `lower()` — the index condition never drops a match.

PostgreSQL only (SQLite scans). Downgrade drops the index and the function.

Revision ID: 0035
Revises: 0034
Create Date: 2026-12-06 16:00:00+00:00
"""

from alembic import op

revision = '0035'
down_revision = '0034'
branch_labels = None
depends_on = None

#: the model declares the index (registry/enterprises/models.py); the function exists only here
FUNCTION = """
CREATE OR REPLACE FUNCTION registry_bigrams(value text) RETURNS text[]
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
    RETURN ARRAY(SELECT DISTINCT substr(lower(value), i, 2)
                 FROM generate_series(1, char_length(lower(value)) - 1) AS i)
"""


def upgrade() -> None:
    if op.get_bind().dialect.name != 'postgresql':
        return
    op.execute(FUNCTION)
    op.execute('CREATE INDEX ix_enterprises_name_bigrams ON enterprises USING gin (registry_bigrams(name))')


def downgrade() -> None:
    if op.get_bind().dialect.name != 'postgresql':
        return
    op.execute('DROP INDEX ix_enterprises_name_bigrams')
    op.execute('DROP FUNCTION registry_bigrams(text)')
