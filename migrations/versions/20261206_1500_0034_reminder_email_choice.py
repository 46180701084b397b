"""Each user chooses whether reminders also go by e-mail (issue 18 §8): `users.wants_reminder_email`.

Default on (as before): every existing user keeps receiving reminder e-mails. Downgrade refuses while any
user has switched e-mail off: the old schema cannot hold the choice, and dropping it would silently resume
e-mail to people who asked to stop. Switch them back on (or export the list) first.

Revision ID: 0034
Revises: 0032
Create Date: 2026-12-06 15:00:00+00:00
"""

import sqlalchemy as sa
from alembic import op

revision = '0034'
down_revision = '0032'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('wants_reminder_email', sa.Boolean(), server_default=sa.true(),
                                      nullable=False))


def downgrade() -> None:
    off = op.get_bind().execute(sa.text("SELECT count(*) FROM users WHERE NOT wants_reminder_email")).scalar()
    if off:
        raise RuntimeError(f"{off} 位用户已关闭邮件提醒，旧版本无法保存这一选择（降级后会恢复给他们发邮件）；"
                           "请先为他们重新开启邮件提醒后再降级")
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('wants_reminder_email')
