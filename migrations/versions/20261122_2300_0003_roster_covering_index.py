"""Roster and scan indexes on titles: (tier, status, valid_until, region_code) covering enterprise_id,
and (status, review_window_opens_on).

The roster's typical filter — a tier, a status, "expiring within N days", a region — seeks this
index on its first three columns and checks the region and reads the enterprise from the index
itself. It replaces ix_certifications_tier_status, its prefix. bench/RESULTS.md shows the plans
before and after (SQLite used ix_certifications_status_until and visited every live title of the
window nationwide in the table). The daily scan looks up active titles whose review window opens
within its reminder horizon; without the second index that was a sequential scan of every title.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-22 23:00:00+00:00
"""

from alembic import op

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('certifications', schema=None) as batch_op:
        batch_op.create_index('ix_certifications_tier_status_until', ['tier', 'status', 'valid_until', 'region_code',
                                                                      'enterprise_id'], unique=False)
        batch_op.drop_index('ix_certifications_tier_status')
        batch_op.create_index('ix_certifications_status_window', ['status', 'review_window_opens_on'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('certifications', schema=None) as batch_op:
        batch_op.drop_index('ix_certifications_status_window')
        batch_op.create_index('ix_certifications_tier_status', ['tier', 'status'], unique=False)
        batch_op.drop_index('ix_certifications_tier_status_until')
