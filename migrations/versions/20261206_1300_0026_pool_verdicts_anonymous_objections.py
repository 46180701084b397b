"""Pool verdicts and anonymous objections (issue 18 §4).

`pool_verdicts` keeps every enterprise a pool run evaluated, member or not, compactly: the
verdict, whether the run admitted it, and only what did not pass (criteria with rule, values
and source; blocking problems) as JSON; one row per (pool, enterprise). Objections gain the
identity `anonymous` and the status `not_accepted` (an anonymous objection is recorded as such
and not accepted, registry/domain/objectors.py). Downgrade drops the table and turns the
anonymous objections back into… nothing: it refuses while any exists, rather than lose them.

Revision ID: 0026
Revises: 0029
Create Date: 2026-12-06 13:00:00+00:00
"""

import sqlalchemy as sa
from alembic import op

revision = '0026'
down_revision = '0029'
branch_labels = None
depends_on = None

OLD_IDENTITY = "submitter_identity IN ('real_name', 'seal')"
NEW_IDENTITY = "submitter_identity IN ('real_name', 'seal', 'anonymous')"
OLD_STATUS = "status IN ('open', 'upheld', 'rejected')"
NEW_STATUS = "status IN ('open', 'upheld', 'rejected', 'not_accepted')"


def _checks(identity: str, status: str) -> None:
    with op.batch_alter_table('objections', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_objections_submitter_identity'), type_='check')
        batch_op.drop_constraint(op.f('ck_objections_objection_status'), type_='check')
        batch_op.create_check_constraint(op.f('ck_objections_submitter_identity'), identity)
        batch_op.create_check_constraint(op.f('ck_objections_objection_status'), status)


def upgrade() -> None:
    op.create_table(
        'pool_verdicts',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('pool_id', sa.Integer(), nullable=False),
        sa.Column('enterprise_id', sa.Integer(), nullable=False),
        sa.Column('region_code', sa.String(length=6), nullable=False),
        sa.Column('verdict', sa.Enum('pass', 'fail', 'unknown', name='verdict', native_enum=False,
                                     create_constraint=True, length=32), nullable=False),
        sa.Column('admitted', sa.Boolean(), nullable=False),
        sa.Column('by_run', sa.Boolean(), nullable=False),
        sa.Column('reasons', sa.JSON(), nullable=False),
        sa.Column('evaluated_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['enterprise_id'], ['enterprises.id'],
                                name=op.f('fk_pool_verdicts_enterprise_id_enterprises')),
        sa.ForeignKeyConstraint(['pool_id'], ['pools.id'], name=op.f('fk_pool_verdicts_pool_id_pools')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_pool_verdicts')),
        sa.UniqueConstraint('pool_id', 'enterprise_id', name=op.f('uq_pool_verdicts_pool_id_enterprise_id')),
    )
    op.create_index('ix_pool_verdicts_pool_admitted', 'pool_verdicts', ['pool_id', 'admitted', 'enterprise_id'])
    op.create_index(op.f('ix_pool_verdicts_enterprise_id'), 'pool_verdicts', ['enterprise_id'])
    _checks(NEW_IDENTITY, NEW_STATUS)


def downgrade() -> None:
    anonymous = op.get_bind().execute(sa.text(
        "SELECT count(*) FROM objections WHERE submitter_identity = 'anonymous' OR status = 'not_accepted'")).scalar()
    if anonymous:
        raise RuntimeError(f"{anonymous} 条匿名异议无法在旧版本中保存，请先导出并处理后再降级")
    _checks(OLD_IDENTITY, OLD_STATUS)
    op.drop_index(op.f('ix_pool_verdicts_enterprise_id'), table_name='pool_verdicts')
    op.drop_index('ix_pool_verdicts_pool_admitted', table_name='pool_verdicts')
    op.drop_table('pool_verdicts')
