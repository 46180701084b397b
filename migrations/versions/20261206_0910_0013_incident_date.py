"""The accident's date on a revocation (issue 14 §4: look-backs counted from the event's date).

`certification_events.incident_on` records when the accident (or violation) behind a revocation
happened, so "近两年内未发生重大…事故" / "近三年无…违法记录" count back from it, not from the
revocation. Existing revocations get NULL: where a revocation inside a look-back lacks it, the
criterion is 待人工核实. Downgrade drops the column.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-07 09:10:00+00:00
"""

import sqlalchemy as sa
from alembic import op

revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('certification_events', schema=None) as batch_op:
        batch_op.add_column(sa.Column('incident_on', sa.Date(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('certification_events', schema=None) as batch_op:
        batch_op.drop_column('incident_on')
