"""Objections registered by mistake may be withdrawn (issue 18 §3): the status `withdrawn` (已撤回).

Only the objections' status CHECK is widened. Downgrade refuses while any withdrawn objection exists
(the old schema has no status for it, and turning it back into an open or resolved one would change
what finalising the batch does); export and handle them first.

Revision ID: 0031
Revises: 0030
Create Date: 2026-12-06 13:30:00+00:00
"""

import sqlalchemy as sa
from alembic import op

revision = '0031'
down_revision = '0030'
branch_labels = None
depends_on = None

OLD_STATUS = "status IN ('open', 'upheld', 'rejected', 'not_accepted')"
NEW_STATUS = "status IN ('open', 'upheld', 'rejected', 'not_accepted', 'withdrawn')"


def _status(check: str) -> None:
    with op.batch_alter_table('objections', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_objections_objection_status'), type_='check')
        batch_op.create_check_constraint(op.f('ck_objections_objection_status'), check)


def upgrade() -> None:
    _status(NEW_STATUS)


def downgrade() -> None:
    withdrawn = op.get_bind().execute(sa.text("SELECT count(*) FROM objections WHERE status = 'withdrawn'")).scalar()
    if withdrawn:
        raise RuntimeError(f"{withdrawn} 条已撤回的异议无法在旧版本中保存，请先导出并处理后再降级")
    _status(OLD_STATUS)
