"""Filings of the periodic reports a tier declares (issue 17 point 3: 一企一策, 季度梳理, 年度评估).

`report_filings`: one row per title, report code and period ("2027", "2027Q1" or "once"), with the
day it was filed. Downgrade drops the table.

Revision ID: 0030
Revises: 0027
Create Date: 2026-12-06 13:30:00+00:00
"""

import sqlalchemy as sa
from alembic import op

revision = '0030'
down_revision = '0027'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'report_filings',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('certification_id', sa.Integer(), nullable=False),
        sa.Column('report_code', sa.String(length=64), nullable=False),
        sa.Column('period', sa.String(length=8), nullable=False),
        sa.Column('filed_on', sa.Date(), nullable=False),
        sa.Column('note', sa.Text(), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("period = 'once' OR length(period) IN (4, 6)",
                           name=op.f('ck_report_filings_period_shape')),
        sa.ForeignKeyConstraint(['certification_id'], ['certifications.id'],
                                name=op.f('fk_report_filings_certification_id_certifications')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_report_filings')),
        sa.UniqueConstraint('certification_id', 'report_code', 'period', name=op.f('uq_report_filings_certification_id_report_code_period')),
    )
    op.create_index(op.f('ix_report_filings_certification_id'), 'report_filings', ['certification_id'])


def downgrade() -> None:
    op.drop_index(op.f('ix_report_filings_certification_id'), table_name='report_filings')
    op.drop_table('report_filings')
