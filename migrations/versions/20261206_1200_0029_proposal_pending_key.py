"""A waiting proposal's unique key: a double submit of a four-eyes change files it once on PostgreSQL,
where two requests could both find "none waiting" and both insert (proposals.pending_key, NULL once
decided; existing pending proposals get their key, the newest keeping it if two already wait).

Revision ID: 0029
Revises: 0021
Create Date: 2026-12-06 12:00:00+00:00
"""

import sqlalchemy as sa
from alembic import op

revision = '0029'
down_revision = '0021'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('proposals') as batch:
        batch.add_column(sa.Column('pending_key', sa.String(length=200), nullable=True))
    conn = op.get_bind()
    proposals = sa.table('proposals', sa.column('id', sa.Integer), sa.column('kind', sa.String),
                         sa.column('status', sa.String), sa.column('target_type', sa.String),
                         sa.column('target_id', sa.Integer), sa.column('payload', sa.JSON),
                         sa.column('pending_key', sa.String))
    seen: set[str] = set()
    rows = conn.execute(sa.select(proposals).where(proposals.c.status == 'pending')
                        .order_by(proposals.c.id.desc())).mappings().all()
    for row in rows:
        target = row['target_id'] if row['target_id'] is not None else f"@{(row['payload'] or {}).get('username', '')}"
        key = f"{row['kind']}:{row['target_type']}:{target}"[:200]
        if key not in seen:
            seen.add(key)
            conn.execute(proposals.update().where(proposals.c.id == row['id']).values(pending_key=key))
    with op.batch_alter_table('proposals') as batch:
        batch.create_unique_constraint('uq_proposals_pending_key', ['pending_key'])


def downgrade() -> None:
    with op.batch_alter_table('proposals') as batch:
        batch.drop_constraint('uq_proposals_pending_key', type_='unique')
        batch.drop_column('pending_key')
