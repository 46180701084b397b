"""Holders beyond enterprises (issue 17 §2, docs/holders.md): zones on the roster, product titles.

`enterprises.holder_kind` says what a record is — an enterprise (every existing row) or a zone (a park
or an administrative area: 合作区, 示范区) with its `zone_type` and `managing_body` (管理机构); a CHECK
keeps a zone's fields off an enterprise and an enterprise's size and industry off a zone.
`certifications.holder` (enterprise | product | zone, the tier's `holder` copied at the grant) and a
product title's `product_name`, `product_sales` (元) and `product_share` (% of 主营业务收入), with
CHECKs; existing 单项冠军产品 titles (tier `champion_product`) become product titles. A partial unique
index keeps one live product title per enterprise and programme (2021 notice: 只能申请一个产品); a
database already holding two stops the upgrade and names them. Downgrade drops it all.

Revision ID: 0022
Revises: 0024
Create Date: 2026-12-06 12:00:00+00:00
"""

import sqlalchemy as sa
from alembic import op

revision = '0022'
down_revision = '0024'
branch_labels = None
depends_on = None

LIVE = "status IN ('active', 'under_review')"
ONE_PRODUCT = f"holder = 'product' AND {LIVE}"
HOLDER_SHAPE = ("(holder_kind = 'zone' AND zone_type IS NOT NULL AND managing_body IS NOT NULL"
                " AND size_class IS NULL AND industry_code IS NULL)"
                " OR (holder_kind = 'enterprise' AND zone_type IS NULL AND managing_body IS NULL)")


def upgrade() -> None:
    with op.batch_alter_table('enterprises', schema=None) as batch_op:
        batch_op.add_column(sa.Column('holder_kind', sa.Enum('enterprise', 'zone', name='holder_kind',
                                                             native_enum=False, create_constraint=True, length=16),
                                      server_default='enterprise', nullable=False))
        batch_op.add_column(sa.Column('zone_type', sa.Enum('park', 'area', name='zone_type', native_enum=False,
                                                           create_constraint=True, length=16), nullable=True))
        batch_op.add_column(sa.Column('managing_body', sa.String(length=200), nullable=True))
        batch_op.create_check_constraint(op.f('ck_enterprises_holder_shape'), HOLDER_SHAPE)
        batch_op.create_index('ix_enterprises_holder_kind', ['holder_kind'], unique=False)
    with op.batch_alter_table('certifications', schema=None) as batch_op:
        batch_op.add_column(sa.Column('holder', sa.String(length=16), server_default='enterprise', nullable=False))
        batch_op.add_column(sa.Column('product_name', sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column('product_sales', sa.Numeric(precision=18, scale=2), nullable=True))
        batch_op.add_column(sa.Column('product_share', sa.Numeric(precision=7, scale=2), nullable=True))
        batch_op.create_check_constraint(op.f('ck_certifications_holder'), "holder IN ('enterprise', 'product', 'zone')")
        batch_op.create_check_constraint(op.f('ck_certifications_product_only_on_product'),
                                         "holder = 'product' OR (product_name IS NULL AND product_sales IS NULL"
                                         " AND product_share IS NULL)")
        batch_op.create_check_constraint(op.f('ck_certifications_product_sales'),
                                         "product_sales IS NULL OR product_sales >= 0")
        batch_op.create_check_constraint(op.f('ck_certifications_product_share'),
                                         "product_share IS NULL OR (product_share >= 0 AND product_share <= 100)")
    conn = op.get_bind()
    conn.execute(sa.text("UPDATE certifications SET holder = 'product' WHERE tier = 'champion_product'"))
    doubles = conn.execute(sa.text(
        f"SELECT enterprise_id, programme, COUNT(*) FROM certifications WHERE {ONE_PRODUCT}"
        " GROUP BY enterprise_id, programme HAVING COUNT(*) > 1 ORDER BY enterprise_id")).all()
    if doubles:
        listed = "; ".join(f"enterprise {e} {p}: {n} titles" for e, p, n in doubles[:50])
        raise RuntimeError("同一企业有多个有效的产品称号（每家企业只能申请一个产品），请先在系统中撤回多余的称号再升级"
                           f" / more than one live product title per enterprise: {listed}")
    op.create_index('uq_certifications_one_live_product', 'certifications', ['enterprise_id', 'programme'],
                    unique=True, sqlite_where=sa.text(ONE_PRODUCT), postgresql_where=sa.text(ONE_PRODUCT))


def downgrade() -> None:
    op.drop_index('uq_certifications_one_live_product', table_name='certifications')
    with op.batch_alter_table('certifications', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_certifications_product_share'), type_='check')
        batch_op.drop_constraint(op.f('ck_certifications_product_sales'), type_='check')
        batch_op.drop_constraint(op.f('ck_certifications_product_only_on_product'), type_='check')
        batch_op.drop_constraint(op.f('ck_certifications_holder'), type_='check')
        batch_op.drop_column('product_share')
        batch_op.drop_column('product_sales')
        batch_op.drop_column('product_name')
        batch_op.drop_column('holder')
    with op.batch_alter_table('enterprises', schema=None) as batch_op:
        batch_op.drop_index('ix_enterprises_holder_kind')
        batch_op.drop_constraint(op.f('ck_enterprises_holder_shape'), type_='check')
        batch_op.drop_constraint(op.f('ck_enterprises_zone_type'), type_='check')
        batch_op.drop_constraint(op.f('ck_enterprises_holder_kind'), type_='check')
        batch_op.drop_column('managing_body')
        batch_op.drop_column('zone_type')
        batch_op.drop_column('holder_kind')
