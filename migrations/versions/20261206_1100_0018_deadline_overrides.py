"""Deadlines as data per region and year (issue 17 §4): the annual update's date a province or city moved.

`deadline_overrides` holds one row per (kind, region node, year, policy date moved — MM-DD, 04-30 for the
63号 update) with the date, the notice (文号) that
set it, a note and who recorded it when. Only the kind 'annual_update' is used: the scan, the
reminders, the dashboard, the to-do list and the review-eligibility consequence read the date of the
deepest node holding an enterprise (docs/deadline-overrides.md). Downgrade drops the table.

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-06 11:00:00+00:00
"""

import sqlalchemy as sa
from alembic import op

revision = '0018'
down_revision = '0017'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'deadline_overrides',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('kind', sa.String(length=32), nullable=False),
        sa.Column('region_code', sa.String(length=6), nullable=False),
        sa.Column('year', sa.Integer(), nullable=False),
        sa.Column('policy_date', sa.String(length=5), nullable=False),
        sa.Column('due_on', sa.Date(), nullable=False),
        sa.Column('document_no', sa.String(length=200), nullable=False),
        sa.Column('note', sa.String(length=500), nullable=False),
        sa.Column('created_by', sa.String(length=128), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_deadline_overrides')),
        sa.UniqueConstraint('kind', 'region_code', 'year', 'policy_date',
                            name=op.f('uq_deadline_overrides_kind_region_code_year_policy_date')),
    )


def downgrade() -> None:
    op.drop_table('deadline_overrides')
