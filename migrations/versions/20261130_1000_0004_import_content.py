"""Imports from the pages: the uploaded file, its programme, and a `queued` status with a CHECK.

A page upload stores the file on its ImportRun (`content`) so a background worker can process it
after the request has returned, and so "确认导入" applies the very file the dry run checked, read
within the same programme (`programme`); `source_id` ties an apply run to the dry run it confirms,
unique, so confirming twice (a double click, two tabs) applies the file once. The status CHECK lists every status, the new `queued`
among them; rows written before this revision carry only running, failed, validated or applied.
Downgrade drops the two columns and the constraint (a queued run would break nothing: the
column is plain VARCHAR again).

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-30 10:00:00+00:00
"""

import sqlalchemy as sa
from alembic import op

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('imports', schema=None) as batch_op:
        batch_op.add_column(sa.Column('programme', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('content', sa.LargeBinary(), nullable=True))
        batch_op.add_column(sa.Column('source_id', sa.Integer(), nullable=True))
        batch_op.create_unique_constraint(batch_op.f('uq_imports_source_id'), ['source_id'])
        batch_op.create_foreign_key(batch_op.f('fk_imports_source_id_imports'), 'imports', ['source_id'], ['id'])
        batch_op.create_check_constraint(
            op.f('ck_imports_status'), "status IN ('queued', 'running', 'failed', 'validated', 'applied')")


def downgrade() -> None:
    with op.batch_alter_table('imports', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_imports_status'), type_='check')
        batch_op.drop_constraint(batch_op.f('fk_imports_source_id_imports'), type_='foreignkey')
        batch_op.drop_constraint(batch_op.f('uq_imports_source_id'), type_='unique')
        batch_op.drop_column('source_id')
        batch_op.drop_column('content')
        batch_op.drop_column('programme')
