"""Helpers for audit tests: read the trail, and act as a DBA who drops the append-only triggers."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from registry.audit.models import AuditEvent

MESSAGE = "audit_events is append-only"


def last_id(session: Session) -> int:
    """Return the id of the newest event (0 if none): a mark to read what follows."""
    return session.scalar(sa.select(sa.func.max(AuditEvent.id))) or 0


def events_after(session: Session, mark: int) -> list[AuditEvent]:
    """Return the events appended after `mark`, oldest first."""
    return list(session.scalars(sa.select(AuditEvent).where(AuditEvent.id > mark).order_by(AuditEvent.id)))


def drop_guards(conn: Connection) -> None:
    """Drop the triggers that refuse UPDATE/DELETE (what a DBA bent on tampering would do)."""
    if conn.dialect.name == "postgresql":
        conn.exec_driver_sql("DROP TRIGGER audit_events_append_only ON audit_events")
        conn.exec_driver_sql("DROP TRIGGER audit_events_no_truncate ON audit_events")
    else:
        conn.exec_driver_sql("DROP TRIGGER audit_events_no_update")
        conn.exec_driver_sql("DROP TRIGGER audit_events_no_delete")


def restore_guards(conn: Connection) -> None:
    """Recreate the triggers exactly as the migrations (baseline, 0015) leave them."""
    if conn.dialect.name == "postgresql":
        conn.exec_driver_sql("""CREATE TRIGGER audit_events_append_only BEFORE UPDATE OR DELETE ON audit_events
                                FOR EACH ROW EXECUTE FUNCTION audit_events_refuse_change()""")
        conn.exec_driver_sql("""CREATE TRIGGER audit_events_no_truncate BEFORE TRUNCATE ON audit_events
                                FOR EACH STATEMENT EXECUTE FUNCTION audit_events_refuse_change()""")
    else:  # as migration 0015 left them: DELETE only of events up to the archived base
        conn.exec_driver_sql(f"""CREATE TRIGGER audit_events_no_update BEFORE UPDATE ON audit_events
                                 BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END""")
        conn.exec_driver_sql(f"""CREATE TRIGGER audit_events_no_delete BEFORE DELETE ON audit_events
                                 WHEN OLD.id > COALESCE((SELECT base_event_id FROM audit_chain_head WHERE id = 1), 0)
                                 BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END""")


def tamper(session: Session, sql: str, **params: object) -> None:
    """Run SQL on the session's connection, below the ORM guard, as a DBA would."""
    session.connection().execute(sa.text(sql), params)
