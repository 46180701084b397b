"""Imports run in one background executor (the jobs process): claim, heartbeat, submitter.

A queued run is claimed by the executor (`started_at`, `worker` = host:pid) and, while it runs,
its worker writes `heartbeat_at`; a run whose heartbeat is older than
REGISTRY_IMPORT_HEARTBEAT_MINUTES is failed by the reaper. `submitted_by` keeps what the worker
needs to act as the uploader and what the audit trail records ({kind, token_id, ip, request_id}).
Downgrade drops the four columns (a running run keeps running; the old 6-hour rule applies).

Revision ID: 0006
Revises: 0004
Create Date: 2026-12-06 06:00:00+00:00
"""

import sqlalchemy as sa
from alembic import op

revision = '0006'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('imports', schema=None) as batch_op:
        batch_op.add_column(sa.Column('submitted_by', sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column('started_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('heartbeat_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('worker', sa.String(length=120), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('imports', schema=None) as batch_op:
        batch_op.drop_column('worker')
        batch_op.drop_column('heartbeat_at')
        batch_op.drop_column('started_at')
        batch_op.drop_column('submitted_by')
