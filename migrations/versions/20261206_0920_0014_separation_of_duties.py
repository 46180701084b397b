"""三员分立 and four-eyes (issue 16 §4): the administrator roles, the leader role, proposals.

`users.role` may now also be `leader` (read-only dashboards), `sysadmin` (accounts and
settings), `secadmin` (approves account changes, security events) and `auditadmin` (reads the
whole audit trail) — SPEC §6's codes. Existing users keep their role: `admin` stays the business
role it is in SPEC §6 (an officer who confirms four-eyes actions) and loses account management,
which the operator gives to a system administrator and a security administrator created with
`flask create-user` (the bootstrap path). `proposals` holds changes waiting for a second person.

Downgrade drops `proposals` and maps the new roles to the least the old CHECK allows: `leader`
and `auditadmin` become `auditor`; `sysadmin` and `secadmin` become `auditor` and are disabled
(the old `admin` would widen their rights).

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-06 08:00:00+00:00
"""

import sqlalchemy as sa
from alembic import op

revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None

OLD = "role IN ('admin', 'officer', 'auditor')"
NEW = "role IN ('admin', 'officer', 'auditor', 'leader', 'sysadmin', 'secadmin', 'auditadmin')"


def upgrade() -> None:
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_users_role'), type_='check')
        batch_op.create_check_constraint(op.f('ck_users_role'), NEW)
    op.create_table(
        'proposals',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('kind', sa.String(length=32), nullable=False),
        sa.Column('status', sa.Enum('pending', 'confirmed', 'rejected', name='status', native_enum=False,
                                    create_constraint=True, length=32), nullable=False),
        sa.Column('region_code', sa.String(length=6), nullable=False),
        sa.Column('target_type', sa.String(length=32), nullable=False),
        sa.Column('target_id', sa.Integer(), nullable=True),
        sa.Column('summary', sa.String(length=400), nullable=False),
        sa.Column('payload', sa.JSON(), nullable=False),
        sa.Column('note', sa.Text(), nullable=True),
        sa.Column('proposed_by_id', sa.Integer(), nullable=True),
        sa.Column('proposed_by', sa.String(length=128), nullable=False),
        sa.Column('proposed_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('decided_by_id', sa.Integer(), nullable=True),
        sa.Column('decided_by', sa.String(length=128), nullable=True),
        sa.Column('decided_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('decision_note', sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(['decided_by_id'], ['users.id'], name=op.f('fk_proposals_decided_by_id_users')),
        sa.ForeignKeyConstraint(['proposed_by_id'], ['users.id'], name=op.f('fk_proposals_proposed_by_id_users')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_proposals')),
    )
    op.create_index('ix_proposals_status_region_code', 'proposals', ['status', 'region_code'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_proposals_status_region_code', table_name='proposals')
    op.drop_table('proposals')
    users = sa.table('users', sa.column('role', sa.String(32)), sa.column('is_active', sa.Boolean()))
    op.execute(users.update().where(users.c.role.in_(['sysadmin', 'secadmin']))
               .values(role='auditor', is_active=False))
    op.execute(users.update().where(users.c.role.in_(['leader', 'auditadmin'])).values(role='auditor'))
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_users_role'), type_='check')
        batch_op.create_check_constraint(op.f('ck_users_role'), OLD)
