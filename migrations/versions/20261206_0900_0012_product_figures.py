"""Product-level figures (issue 14 §4): the annual report's main product and its sales.

`annual_reports.main_product` (主导产品) and `main_product_revenue` (its sales that year, 元) let the
criteria over a product's share — 单项冠军's "相应产品的销售收入须占企业主营业务收入的70%以上",
浙江隐形冠军's 主要产品 share and R&D over main-product sales, 四川's 主导产品 share — be judged on the
true ratio; without them those criteria stay 待人工核实. Existing rows get NULL (not recorded).
Downgrade drops the two columns.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-07 09:00:00+00:00
"""

import sqlalchemy as sa
from alembic import op

revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('annual_reports', schema=None) as batch_op:
        batch_op.add_column(sa.Column('main_product', sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column('main_product_revenue', sa.Numeric(precision=18, scale=2), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('annual_reports', schema=None) as batch_op:
        batch_op.drop_column('main_product_revenue')
        batch_op.drop_column('main_product')
