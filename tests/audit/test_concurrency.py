"""Concurrent writers never fork the chain: threads committing through the services on a committed database."""

import threading

from registry.audit import trail as audit
from registry.audit.models import AuditChainHead, AuditEvent
from registry.enterprises.services import register_enterprise
from tests.conftest import NOW
from tests.factories import make_enterprise, make_uscc

WRITERS, EACH = 4, 8


def writer(committed_factory, admin, codes, errors):
    try:
        with committed_factory() as session:  # one session for all its commits, as a job loop would
            for code in codes:
                register_enterprise(session, actor=admin, at=NOW,
                                    data={"uscc": code, "name": f"并发企业{code}", "region_code": "331002"})
                session.commit()
    except Exception as exc:  # noqa: BLE001  reported by the test
        errors.append(exc)


def verifier(committed_factory, stop, results):
    while not stop.is_set():
        with committed_factory() as session:
            results.append(audit.verify(session))


def test_concurrent_writers_keep_one_contiguous_chain(committed_factory, admin):
    errors, results, stop = [], [], threading.Event()
    batches = [[make_uscc() for _ in range(EACH)] for _ in range(WRITERS)]
    threads = [threading.Thread(target=writer, args=(committed_factory, admin, codes, errors)) for codes in batches]
    watcher = threading.Thread(target=verifier, args=(committed_factory, stop, results))
    watcher.start()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    stop.set()
    watcher.join()
    assert errors == []
    assert results and all(r.ok for r in results), [r for r in results if not r.ok][:1]
    with committed_factory() as session:
        final = audit.verify(session)
        ids = list(session.scalars(AuditEvent.__table__.select().with_only_columns(AuditEvent.id)
                                   .order_by(AuditEvent.id)))
    assert final.ok and final.checked == WRITERS * EACH
    assert ids == list(range(1, WRITERS * EACH + 1))


def test_a_long_lived_session_sees_the_head_others_moved(committed_factory, admin):
    with committed_factory() as first, committed_factory() as second:
        make_enterprise(first, admin)
        first.commit()
        shown = first.get(AuditChainHead, 1)  # e.g. read for a status page: kept in the identity map
        first.commit()  # (end the read: SQLite's IMMEDIATE transactions would block the second writer)
        make_enterprise(second, admin)
        second.commit()
        make_enterprise(first, admin)  # must lock and read the head the second session moved
        first.commit()
        assert audit.verify(first).checked == 3 and shown.last_event_id == 3
