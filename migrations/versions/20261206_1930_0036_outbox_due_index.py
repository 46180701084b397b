"""The sender's claim reads due messages from an index in its own order (issue 19): `ix_outbox_messages_due`
on (status, channel, next_attempt_at, id) replaces (status, next_attempt_at).

A catch-up scan at 1,000,000 enterprises queues ~280,000 e-mails at one instant; each claim of 50 then
scanned and sorted all of them (`ORDER BY next_attempt_at, id`, channel filtered): 650 ms a batch, 5.3× a
bare SMTP loop. With the channel and the id in the key the claim reads its 50 rows in order and stops;
the channel sender's per-target queries (`channel IN (…)`) use the same index.

Revision ID: 0036
Revises: 0035
Create Date: 2026-12-06 19:30:00+00:00
"""

from alembic import op

revision = '0036'
down_revision = '0035'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index('ix_outbox_messages_due', 'outbox_messages', ['status', 'channel', 'next_attempt_at', 'id'],
                    unique=False)
    op.drop_index('ix_outbox_messages_status_next', table_name='outbox_messages')


def downgrade() -> None:
    op.create_index('ix_outbox_messages_status_next', 'outbox_messages', ['status', 'next_attempt_at'], unique=False)
    op.drop_index('ix_outbox_messages_due', table_name='outbox_messages')
