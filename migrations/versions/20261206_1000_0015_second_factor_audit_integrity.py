"""Second factor, audit archive and the chain's algorithm (issue 16 §3, §5, §7).

- users: a TOTP secret, when it was enabled, the last accepted 30-second step (no replay), and
  the count of wrong codes; `recovery_codes` (SHA-256 of one-time codes); `user_sessions.second_factor`
  (how the login passed it: totp or recovery).
- audit_events.hash_alg: the function each event's hash was made with (sha256 for every existing
  event; sm3 when REGISTRY_AUDIT_HASH=sm3), so a chain may switch.
- audit_chain_head: `anchor` (HMAC-SM3 of base and head under REGISTRY_AUDIT_ANCHOR_KEY, set at
  the next append or by `flask audit anchor`), and `base_event_id`/`base_hash`: the last event
  archived out of the table. The DELETE guard now lets through only events up to the base, which
  `flask audit archive` moves after writing and re-reading the archive file; UPDATE and TRUNCATE
  stay refused.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-06 10:00:00+00:00
"""

import sqlalchemy as sa
from alembic import op

revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None

GENESIS = "0" * 64
MESSAGE = "audit_events is append-only"
BASE = "COALESCE((SELECT base_event_id FROM audit_chain_head WHERE id = 1), 0)"


def upgrade() -> None:
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('totp_secret', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('totp_enabled_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('totp_last_step', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('second_factor_failures', sa.Integer(), nullable=False, server_default='0'))
    op.create_table(
        'recovery_codes',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('code_hash', sa.String(length=64), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('used_at', sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_recovery_codes_user_id_users')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_recovery_codes')),
        sa.UniqueConstraint('code_hash', name=op.f('uq_recovery_codes_code_hash')),
    )
    op.create_index(op.f('ix_recovery_codes_user_id'), 'recovery_codes', ['user_id'], unique=False)
    with op.batch_alter_table('user_sessions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('second_factor', sa.String(length=16), nullable=True))
    # Not batch mode: on SQLite a batch would copy audit_events and lose its triggers.
    op.add_column('audit_events', sa.Column('hash_alg', sa.String(length=8), nullable=False, server_default='sha256'))
    op.add_column('audit_chain_head', sa.Column('base_event_id', sa.Integer(), nullable=True))
    op.add_column('audit_chain_head', sa.Column('base_hash', sa.String(length=64), nullable=False,
                                                server_default=GENESIS))
    op.add_column('audit_chain_head', sa.Column('anchor', sa.String(length=64), nullable=True))
    _delete_guard(archivable=True)


def _delete_guard(*, archivable: bool) -> None:
    """Refuse DELETE of audit rows, but (archivable) of those up to the archived base."""
    if op.get_bind().dialect.name == "postgresql":
        allow = (f"IF TG_OP = 'DELETE' AND OLD.id <= {BASE} THEN RETURN OLD; END IF; " if archivable else "")
        op.execute(f"""
            CREATE OR REPLACE FUNCTION audit_events_refuse_change() RETURNS trigger AS $$
            BEGIN {allow}RAISE EXCEPTION '{MESSAGE}'; END; $$ LANGUAGE plpgsql""")
    else:
        op.execute("DROP TRIGGER IF EXISTS audit_events_no_delete")
        when = f" WHEN OLD.id > {BASE}" if archivable else ""
        op.execute(f"""CREATE TRIGGER audit_events_no_delete BEFORE DELETE ON audit_events{when}
                       BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END""")


def downgrade() -> None:
    _delete_guard(archivable=False)
    op.drop_column('audit_chain_head', 'anchor')
    op.drop_column('audit_chain_head', 'base_hash')
    op.drop_column('audit_chain_head', 'base_event_id')
    op.drop_column('audit_events', 'hash_alg')
    with op.batch_alter_table('user_sessions', schema=None) as batch_op:
        batch_op.drop_column('second_factor')
    op.drop_index(op.f('ix_recovery_codes_user_id'), table_name='recovery_codes')
    op.drop_table('recovery_codes')
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('second_factor_failures')
        batch_op.drop_column('totp_last_step')
        batch_op.drop_column('totp_enabled_at')
        batch_op.drop_column('totp_secret')
