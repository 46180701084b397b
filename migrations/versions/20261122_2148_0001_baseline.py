"""Baseline schema: roster, titles and their terms, bans, users, audit trail, reminders, outbox, jobs, imports.

The audit trail is append-only: triggers refuse UPDATE and DELETE on audit_events on both
backends, and the chain head row that serialises appends is created here.

Revision ID: 0001
Revises: 
Create Date: 2026-11-22 21:48:58.917774+00:00
"""

import sqlalchemy as sa
from alembic import op

revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('audit_chain_head',
    sa.Column('id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('last_event_id', sa.Integer(), nullable=True),
    sa.Column('last_hash', sa.String(length=64), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_chain_head'))
    )
    op.create_table('audit_events',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('occurred_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('actor_kind', sa.String(length=16), nullable=False),
    sa.Column('actor_name', sa.String(length=128), nullable=False),
    sa.Column('actor_user_id', sa.Integer(), nullable=True),
    sa.Column('action', sa.String(length=64), nullable=False),
    sa.Column('entity_type', sa.String(length=64), nullable=False),
    sa.Column('entity_id', sa.Integer(), nullable=True),
    sa.Column('enterprise_id', sa.Integer(), nullable=True),
    sa.Column('region_code', sa.String(length=6), nullable=True),
    sa.Column('changes', sa.JSON(), nullable=False),
    sa.Column('reason_code', sa.String(length=64), nullable=True),
    sa.Column('document_no', sa.String(length=200), nullable=True),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('request_id', sa.String(length=64), nullable=True),
    sa.Column('ip', sa.String(length=64), nullable=True),
    sa.Column('prev_hash', sa.String(length=64), nullable=False),
    sa.Column('hash', sa.String(length=64), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_events')),
    sa.UniqueConstraint('hash', name=op.f('uq_audit_events_hash'))
    )
    with op.batch_alter_table('audit_events', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_audit_events_enterprise_id'), ['enterprise_id'], unique=False)
        batch_op.create_index('ix_audit_events_entity', ['entity_type', 'entity_id'], unique=False)
        batch_op.create_index('ix_audit_events_occurred_at', ['occurred_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_audit_events_region_code'), ['region_code'], unique=False)

    op.create_table('holiday_overrides',
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('is_workday', sa.Boolean(), nullable=False),
    sa.Column('note', sa.String(length=200), nullable=False),
    sa.PrimaryKeyConstraint('day', name=op.f('pk_holiday_overrides'))
    )
    op.create_table('holiday_years',
    sa.Column('year', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('source_doc', sa.String(length=200), nullable=False),
    sa.Column('loaded_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('year', name=op.f('pk_holiday_years'))
    )
    op.create_table('job_runs',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('job_name', sa.String(length=64), nullable=False),
    sa.Column('run_on', sa.Date(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('detail', sa.JSON(), nullable=True),
    sa.CheckConstraint("status IN ('running', 'succeeded', 'failed')", name=op.f('ck_job_runs_status')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_job_runs')),
    sa.UniqueConstraint('job_name', 'run_on', name=op.f('uq_job_runs_job_name_run_on'))
    )
    op.create_table('regions',
    sa.Column('code', sa.String(length=6), nullable=False),
    sa.Column('name', sa.String(length=64), nullable=False),
    sa.Column('parent_code', sa.String(length=6), nullable=True),
    sa.Column('level', sa.String(length=16), nullable=False),
    sa.CheckConstraint("level IN ('province', 'city', 'district')", name=op.f('ck_regions_level')),
    sa.ForeignKeyConstraint(['parent_code'], ['regions.code'], name=op.f('fk_regions_parent_code_regions')),
    sa.PrimaryKeyConstraint('code', name=op.f('pk_regions'))
    )
    with op.batch_alter_table('regions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_regions_parent_code'), ['parent_code'], unique=False)

    op.create_table('users',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('username', sa.String(length=64), nullable=False),
    sa.Column('display_name', sa.String(length=64), nullable=False),
    sa.Column('email', sa.String(length=254), nullable=False),
    sa.Column('password_hash', sa.String(length=256), nullable=False),
    sa.Column('role', sa.Enum('admin', 'officer', 'auditor', name='role', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('region_code', sa.String(length=6), nullable=False),
    sa.Column('is_active', sa.Boolean(), nullable=False),
    sa.Column('session_token', sa.String(length=64), nullable=False),
    sa.Column('failed_login_count', sa.Integer(), nullable=False),
    sa.Column('locked_until', sa.DateTime(timezone=True), nullable=True),
    sa.Column('wants_daily_digest', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_users')),
    sa.UniqueConstraint('session_token', name=op.f('uq_users_session_token')),
    sa.UniqueConstraint('username', name=op.f('uq_users_username'))
    )
    op.create_table('api_tokens',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=64), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('last_used_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_api_tokens_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_api_tokens')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_api_tokens_token_hash'))
    )
    with op.batch_alter_table('api_tokens', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_api_tokens_user_id'), ['user_id'], unique=False)

    op.create_table('enterprises',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('uscc', sa.String(length=18), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('region_code', sa.String(length=6), nullable=False),
    sa.Column('industry_code', sa.String(length=8), nullable=True),
    sa.Column('size_class', sa.Enum('medium', 'small', 'micro', name='size_class', native_enum=False, create_constraint=True, length=32), nullable=True),
    sa.Column('founded_on', sa.Date(), nullable=True),
    sa.Column('contact_name', sa.String(length=64), nullable=True),
    sa.Column('contact_email', sa.String(length=254), nullable=True),
    sa.Column('contact_phone', sa.String(length=32), nullable=True),
    sa.Column('officer_id', sa.Integer(), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['officer_id'], ['users.id'], name=op.f('fk_enterprises_officer_id_users')),
    sa.ForeignKeyConstraint(['region_code'], ['regions.code'], name=op.f('fk_enterprises_region_code_regions')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_enterprises')),
    sa.UniqueConstraint('uscc', name=op.f('uq_enterprises_uscc'))
    )
    with op.batch_alter_table('enterprises', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_enterprises_name'), ['name'], unique=False)
        batch_op.create_index(batch_op.f('ix_enterprises_officer_id'), ['officer_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_enterprises_region_code'), ['region_code'], unique=False)

    op.create_table('imports',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('filename', sa.String(length=255), nullable=False),
    sa.Column('mode', sa.String(length=16), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('region_code', sa.String(length=6), nullable=False),
    sa.Column('total_rows', sa.Integer(), nullable=False),
    sa.Column('processed_rows', sa.Integer(), nullable=False),
    sa.Column('counts', sa.JSON(), nullable=False),
    sa.Column('errors', sa.JSON(), nullable=False),
    sa.Column('diff', sa.JSON(), nullable=False),
    sa.Column('error_workbook', sa.LargeBinary(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_imports_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_imports'))
    )
    op.create_table('annual_reports',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('enterprise_id', sa.Integer(), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('revenue', sa.Numeric(precision=18, scale=2), nullable=True),
    sa.Column('main_business_revenue', sa.Numeric(precision=18, scale=2), nullable=True),
    sa.Column('rd_expense', sa.Numeric(precision=18, scale=2), nullable=True),
    sa.Column('employees', sa.Integer(), nullable=True),
    sa.Column('rd_staff', sa.Integer(), nullable=True),
    sa.Column('debt_ratio', sa.Numeric(precision=7, scale=2), nullable=True),
    sa.Column('invention_patents', sa.Integer(), nullable=True),
    sa.Column('audit_report_code', sa.String(length=64), nullable=True),
    sa.Column('audit_firm', sa.String(length=200), nullable=True),
    sa.Column('submitted_on', sa.Date(), nullable=False),
    sa.ForeignKeyConstraint(['enterprise_id'], ['enterprises.id'], name=op.f('fk_annual_reports_enterprise_id_enterprises')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_annual_reports')),
    sa.UniqueConstraint('enterprise_id', 'year', name=op.f('uq_annual_reports_enterprise_id_year'))
    )
    op.create_table('certifications',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('enterprise_id', sa.Integer(), nullable=False),
    sa.Column('region_code', sa.String(length=6), nullable=False),
    sa.Column('tier', sa.String(length=32), nullable=False),
    sa.Column('programme', sa.String(length=32), nullable=False),
    sa.Column('policy_code', sa.String(length=64), nullable=False),
    sa.Column('status', sa.Enum('active', 'under_review', 'expired', 'revoked', 'withdrawn', 'superseded', name='status', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('recognized_on', sa.Date(), nullable=False),
    sa.Column('batch', sa.String(length=64), nullable=True),
    sa.Column('document_no', sa.String(length=128), nullable=True),
    sa.Column('authority', sa.String(length=128), nullable=True),
    sa.Column('valid_from', sa.Date(), nullable=False),
    sa.Column('valid_until', sa.Date(), nullable=True),
    sa.Column('review_window_opens_on', sa.Date(), nullable=True),
    sa.Column('ended_on', sa.Date(), nullable=True),
    sa.Column('review_eligible', sa.Boolean(), nullable=False),
    sa.Column('review_ineligible_cause', sa.String(length=64), nullable=True),
    sa.Column('prerequisite_lost', sa.Boolean(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['enterprise_id'], ['enterprises.id'], name=op.f('fk_certifications_enterprise_id_enterprises')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_certifications'))
    )
    with op.batch_alter_table('certifications', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_certifications_enterprise_id'), ['enterprise_id'], unique=False)
        batch_op.create_index('ix_certifications_region_tier_status_until', ['region_code', 'tier', 'status', 'valid_until'], unique=False)
        batch_op.create_index('ix_certifications_status_until', ['status', 'valid_until'], unique=False)
        batch_op.create_index('ix_certifications_tier_status', ['tier', 'status'], unique=False)

    op.create_table('change_reports',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('enterprise_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.Enum('rename', 'merger', 'restructuring', 'cross_province_move', 'overseas_branch', 'other', name='change_kind', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('occurred_on', sa.Date(), nullable=False),
    sa.Column('reported_on', sa.Date(), nullable=True),
    sa.Column('deadline_on', sa.Date(), nullable=False),
    sa.Column('deadline_provisional', sa.Boolean(), nullable=False),
    sa.Column('details', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['enterprise_id'], ['enterprises.id'], name=op.f('fk_change_reports_enterprise_id_enterprises')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_change_reports'))
    )
    with op.batch_alter_table('change_reports', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_change_reports_enterprise_id'), ['enterprise_id'], unique=False)

    op.create_table('reminders',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('subject_type', sa.String(length=32), nullable=False),
    sa.Column('subject_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('milestone', sa.Integer(), nullable=False),
    sa.Column('reference_on', sa.Date(), nullable=False),
    sa.Column('due_on', sa.Date(), nullable=False),
    sa.Column('enterprise_id', sa.Integer(), nullable=False),
    sa.Column('region_code', sa.String(length=6), nullable=False),
    sa.Column('status', sa.Enum('pending', 'queued', 'retired', name='reminder_status', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('queued_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('retired_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['enterprise_id'], ['enterprises.id'], name=op.f('fk_reminders_enterprise_id_enterprises')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_reminders')),
    sa.UniqueConstraint('subject_type', 'subject_id', 'kind', 'milestone', 'reference_on', name=op.f('uq_reminders_subject_type_subject_id_kind_milestone_reference_on'))
    )
    with op.batch_alter_table('reminders', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_reminders_enterprise_id'), ['enterprise_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_reminders_region_code'), ['region_code'], unique=False)
        batch_op.create_index('ix_reminders_status_due_on', ['status', 'due_on'], unique=False)

    op.create_table('bans',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('uscc', sa.String(length=18), nullable=False),
    sa.Column('certification_id', sa.Integer(), nullable=True),
    sa.Column('reason_code', sa.String(length=64), nullable=False),
    sa.Column('reason', sa.String(length=200), nullable=False),
    sa.Column('starts_on', sa.Date(), nullable=False),
    sa.Column('ends_on', sa.Date(), nullable=False),
    sa.Column('document_no', sa.String(length=128), nullable=True),
    sa.Column('lifted_on', sa.Date(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['certification_id'], ['certifications.id'], name=op.f('fk_bans_certification_id_certifications')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_bans'))
    )
    with op.batch_alter_table('bans', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_bans_uscc'), ['uscc'], unique=False)

    op.create_table('certification_events',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('certification_id', sa.Integer(), nullable=False),
    sa.Column('action', sa.String(length=32), nullable=False),
    sa.Column('effective_on', sa.Date(), nullable=False),
    sa.Column('from_status', sa.Enum('active', 'under_review', 'expired', 'revoked', 'withdrawn', 'superseded', name='from_status', native_enum=False, create_constraint=True, length=32), nullable=True),
    sa.Column('to_status', sa.Enum('active', 'under_review', 'expired', 'revoked', 'withdrawn', 'superseded', name='to_status', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('reason_code', sa.String(length=64), nullable=True),
    sa.Column('document_no', sa.String(length=128), nullable=True),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('actor', sa.String(length=128), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("action IN ('grant', 'submit_review', 'pass_review', 'fail_review', 'revoke', 'withdraw', 'expire', 'downgrade', 'supersede')", name=op.f('ck_certification_events_action')),
    sa.ForeignKeyConstraint(['certification_id'], ['certifications.id'], name=op.f('fk_certification_events_certification_id_certifications')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_certification_events'))
    )
    with op.batch_alter_table('certification_events', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_certification_events_certification_id'), ['certification_id'], unique=False)

    op.create_table('certification_terms',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('certification_id', sa.Integer(), nullable=False),
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.Column('valid_from', sa.Date(), nullable=False),
    sa.Column('valid_until', sa.Date(), nullable=True),
    sa.Column('policy_code', sa.String(length=64), nullable=False),
    sa.Column('decided_on', sa.Date(), nullable=False),
    sa.Column('document_no', sa.String(length=128), nullable=True),
    sa.ForeignKeyConstraint(['certification_id'], ['certifications.id'], name=op.f('fk_certification_terms_certification_id_certifications')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_certification_terms')),
    sa.UniqueConstraint('certification_id', 'seq', name=op.f('uq_certification_terms_certification_id_seq'))
    )
    with op.batch_alter_table('certification_terms', schema=None) as batch_op:
        batch_op.create_index('ix_certification_terms_from_until', ['valid_from', 'valid_until'], unique=False)

    op.create_table('outbox_messages',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('dedupe_key', sa.String(length=200), nullable=False),
    sa.Column('message_id', sa.String(length=200), nullable=False),
    sa.Column('reminder_id', sa.Integer(), nullable=True),
    sa.Column('region_code', sa.String(length=6), nullable=True),
    sa.Column('to_addr', sa.String(length=254), nullable=False),
    sa.Column('subject', sa.String(length=300), nullable=False),
    sa.Column('body_text', sa.Text(), nullable=False),
    sa.Column('status', sa.Enum('pending', 'sending', 'sent', 'failed', name='outbox_status', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('next_attempt_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('lease_until', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('sent_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['reminder_id'], ['reminders.id'], name=op.f('fk_outbox_messages_reminder_id_reminders')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_outbox_messages')),
    sa.UniqueConstraint('dedupe_key', name=op.f('uq_outbox_messages_dedupe_key'))
    )
    with op.batch_alter_table('outbox_messages', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_outbox_messages_reminder_id'), ['reminder_id'], unique=False)
        batch_op.create_index('ix_outbox_messages_status_next', ['status', 'next_attempt_at'], unique=False)

    _create_audit_guards()
    op.execute("INSERT INTO audit_chain_head (id, last_event_id, last_hash) VALUES (1, NULL, '%s')" % ("0" * 64))


AUDIT_GUARD_MESSAGE = "audit_events is append-only"


def _create_audit_guards() -> None:
    """Refuse UPDATE and DELETE of audit rows in the database itself."""
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"""
            CREATE FUNCTION audit_events_refuse_change() RETURNS trigger AS $$
            BEGIN RAISE EXCEPTION '{AUDIT_GUARD_MESSAGE}'; END; $$ LANGUAGE plpgsql""")
        op.execute("""CREATE TRIGGER audit_events_append_only BEFORE UPDATE OR DELETE ON audit_events
                      FOR EACH ROW EXECUTE FUNCTION audit_events_refuse_change()""")
        op.execute("""CREATE TRIGGER audit_events_no_truncate BEFORE TRUNCATE ON audit_events
                      FOR EACH STATEMENT EXECUTE FUNCTION audit_events_refuse_change()""")
    else:
        for verb in ("UPDATE", "DELETE"):
            op.execute(f"""CREATE TRIGGER audit_events_no_{verb.lower()} BEFORE {verb} ON audit_events
                           BEGIN SELECT RAISE(ABORT, '{AUDIT_GUARD_MESSAGE}'); END""")


def _drop_audit_guards() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS audit_events_no_truncate ON audit_events")
        op.execute("DROP TRIGGER IF EXISTS audit_events_append_only ON audit_events")
        op.execute("DROP FUNCTION IF EXISTS audit_events_refuse_change()")
    else:
        op.execute("DROP TRIGGER IF EXISTS audit_events_no_update")
        op.execute("DROP TRIGGER IF EXISTS audit_events_no_delete")


def downgrade() -> None:
    _drop_audit_guards()
    with op.batch_alter_table('outbox_messages', schema=None) as batch_op:
        batch_op.drop_index('ix_outbox_messages_status_next')
        batch_op.drop_index(batch_op.f('ix_outbox_messages_reminder_id'))

    op.drop_table('outbox_messages')
    with op.batch_alter_table('certification_terms', schema=None) as batch_op:
        batch_op.drop_index('ix_certification_terms_from_until')

    op.drop_table('certification_terms')
    with op.batch_alter_table('certification_events', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_certification_events_certification_id'))

    op.drop_table('certification_events')
    with op.batch_alter_table('bans', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_bans_uscc'))

    op.drop_table('bans')
    with op.batch_alter_table('reminders', schema=None) as batch_op:
        batch_op.drop_index('ix_reminders_status_due_on')
        batch_op.drop_index(batch_op.f('ix_reminders_region_code'))
        batch_op.drop_index(batch_op.f('ix_reminders_enterprise_id'))

    op.drop_table('reminders')
    with op.batch_alter_table('change_reports', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_change_reports_enterprise_id'))

    op.drop_table('change_reports')
    with op.batch_alter_table('certifications', schema=None) as batch_op:
        batch_op.drop_index('ix_certifications_tier_status')
        batch_op.drop_index('ix_certifications_status_until')
        batch_op.drop_index('ix_certifications_region_tier_status_until')
        batch_op.drop_index(batch_op.f('ix_certifications_enterprise_id'))

    op.drop_table('certifications')
    op.drop_table('annual_reports')
    op.drop_table('imports')
    with op.batch_alter_table('enterprises', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_enterprises_region_code'))
        batch_op.drop_index(batch_op.f('ix_enterprises_officer_id'))
        batch_op.drop_index(batch_op.f('ix_enterprises_name'))

    op.drop_table('enterprises')
    with op.batch_alter_table('api_tokens', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_api_tokens_user_id'))

    op.drop_table('api_tokens')
    op.drop_table('users')
    with op.batch_alter_table('regions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_regions_parent_code'))

    op.drop_table('regions')
    op.drop_table('job_runs')
    op.drop_table('holiday_years')
    op.drop_table('holiday_overrides')
    with op.batch_alter_table('audit_events', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_audit_events_region_code'))
        batch_op.drop_index('ix_audit_events_occurred_at')
        batch_op.drop_index('ix_audit_events_entity')
        batch_op.drop_index(batch_op.f('ix_audit_events_enterprise_id'))

    op.drop_table('audit_events')
    op.drop_table('audit_chain_head')
