"""Flags in bulk (`mark_many_review_ineligible`, the daily scan's) leave what one call per title leaves."""

from __future__ import annotations

import sqlalchemy as sa

from registry.audit.models import AuditEvent
from registry.titles.flags import mark_many_review_ineligible, mark_review_ineligible
from registry.titles.models import Certification
from tests.conftest import NOW, d
from tests.factories import grant, make_enterprise

CAUSES = ("annual_update_missed", "change_not_reported", "annual_update_missed")


def _state(session, ids):
    """The titles' flags and the audit events appended after `ids`' grants (hashes included)."""
    session.flush()
    session.expire_all()
    titles = [(c.id, c.review_eligible, c.review_ineligible_cause, c.version, c.updated_at)
              for c in session.scalars(sa.select(Certification).where(Certification.id.in_(ids))
                                       .order_by(Certification.id))]
    events = session.execute(sa.select(AuditEvent.id, AuditEvent.action, AuditEvent.entity_id, AuditEvent.changes,
                                       AuditEvent.reason_code, AuditEvent.note, AuditEvent.prev_hash,
                                       AuditEvent.hash)
                             .where(AuditEvent.action == "certification.review_ineligible")
                             .order_by(AuditEvent.id)).all()
    return titles, [tuple(e) for e in events]


def test_flags_in_bulk_leave_the_rows_and_the_chain_one_by_one_leaves(session, admin, rules):
    certs = [grant(session, admin, rules, make_enterprise(session, admin, name=f"台州批量{n}有限公司"),
                   "innovative_sme", d("2025-01-10")) for n in range(3)]
    ids = [c.id for c in certs]
    session.flush()

    one_by_one = session.begin_nested()
    changed = [mark_review_ineligible(session, actor=admin, cert=c, cause=cause, at=NOW)
               for c, cause in zip(certs, CAUSES, strict=True)]
    expected = _state(session, ids)
    one_by_one.rollback()
    session.expire_all()

    certs = [session.get(Certification, i) for i in ids]
    flagged = mark_many_review_ineligible(session, actor=admin, at=NOW,
                                          flags=[*zip(certs, CAUSES, strict=True), (certs[0], "change_not_reported")])
    assert changed == [True, True, True] and flagged == certs  # the title named twice is flagged once
    assert _state(session, ids) == expected
    assert len(expected[1]) == 3 and all(not eligible for _, eligible, *_ in expected[0])


def test_a_title_no_longer_eligible_is_left_alone(session, admin, rules):
    cert = grant(session, admin, rules, make_enterprise(session, admin), "innovative_sme", d("2025-01-10"))
    assert mark_many_review_ineligible(session, actor=admin, flags=[(cert, "annual_update_missed")], at=NOW) == [cert]
    before = session.scalar(sa.select(sa.func.count()).select_from(AuditEvent))
    assert mark_many_review_ineligible(session, actor=admin, flags=[(cert, "change_not_reported")], at=NOW) == []
    assert not mark_review_ineligible(session, actor=admin, cert=cert, cause="change_not_reported", at=NOW)
    assert session.scalar(sa.select(sa.func.count()).select_from(AuditEvent)) == before
    assert cert.review_ineligible_cause == "annual_update_missed"
