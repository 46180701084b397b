"""One live title per enterprise, tier and recognition date: a partial unique index on titles.

Two identical grants sent at once (a double click, a retried request) used to create two active
titles on PostgreSQL. The service now serialises writes per enterprise with a row lock; this index
makes the database refuse the duplicate even where a write path forgets the lock. It covers live
titles only (active, under_review): a title withdrawn or revoked by mistake may be granted again
with the same date. Titles of one tier with different recognition dates (a lapsed title and its
re-recognition) stay possible, as imports of history need them.

A database that already holds such duplicates (written before this revision) cannot take the
index: the upgrade stops and names them, to be resolved by hand (withdraw the extra title through
the app, so the audit trail records it) before upgrading again.

Revision ID: 0005
Revises: 0009
Create Date: 2026-12-06 06:00:00+00:00
"""

import sqlalchemy as sa
from alembic import op

revision = '0005'
down_revision = '0009'
branch_labels = None
depends_on = None

LIVE = "status IN ('active', 'under_review')"


def upgrade() -> None:
    duplicates = op.get_bind().execute(sa.text(
        "SELECT enterprise_id, tier, recognized_on, COUNT(*) FROM certifications"
        f" WHERE {LIVE} GROUP BY enterprise_id, tier, recognized_on HAVING COUNT(*) > 1"
        " ORDER BY enterprise_id")).all()
    if duplicates:
        listed = "; ".join(f"enterprise {e} {t} {d}: {n} titles" for e, t, d, n in duplicates[:50])
        raise RuntimeError(
            "重复的有效称号（同一企业、同一称号、同一认定日期），请先在系统中撤回多余的称号再升级 / duplicate live"
            f" titles, withdraw the extra ones first: {listed}")
    op.create_index('uq_certifications_live_title', 'certifications', ['enterprise_id', 'tier', 'recognized_on'],
                    unique=True, sqlite_where=sa.text(LIVE), postgresql_where=sa.text(LIVE))


def downgrade() -> None:
    op.drop_index('uq_certifications_live_title', table_name='certifications')
