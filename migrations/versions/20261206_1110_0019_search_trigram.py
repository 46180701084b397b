"""Roster search by substring at a million enterprises (issue 18 §5): pg_trgm GIN indexes on name and USCC.

PostgreSQL only: the pg_trgm extension (a trusted extension since PostgreSQL 13: the database owner
may create it) and two GIN indexes with gin_trgm_ops, which serve `name ILIKE '%…%'` and
`uscc LIKE '%…%'`. SQLite has no such index: its search scans (fine at an embedded office's size).
Downgrade drops the indexes and leaves the extension (other objects may use it).

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-06 11:00:00+00:00
"""

from alembic import op

revision = '0019'
down_revision = '0018'
branch_labels = None
depends_on = None

COLUMNS = ('name', 'uscc')


def upgrade() -> None:
    if op.get_bind().dialect.name != 'postgresql':
        return
    op.execute('CREATE EXTENSION IF NOT EXISTS pg_trgm')
    for column in COLUMNS:
        op.create_index(f'ix_enterprises_{column}_trgm', 'enterprises', [column], unique=False,
                        postgresql_using='gin', postgresql_ops={column: 'gin_trgm_ops'})


def downgrade() -> None:
    if op.get_bind().dialect.name != 'postgresql':
        return
    for column in COLUMNS:
        op.drop_index(f'ix_enterprises_{column}_trgm', table_name='enterprises')
