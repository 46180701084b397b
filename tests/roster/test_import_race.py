"""An import racing an edit of an enterprise it changes: the edit is never lost, nor applied over."""

from __future__ import annotations

import threading
import time

import sqlalchemy as sa

from registry.domain.errors import StaleVersion
from registry.enterprises.models import Enterprise
from registry.enterprises.services import update_enterprise
from registry.roster.imports import run_import
from tests.conftest import NOW
from tests.factories import make_enterprise, make_uscc
from tests.roster.conftest import TODAY
from tests.roster.files import xlsx


def test_an_import_waits_for_an_edit_of_its_enterprise_and_never_writes_over_it(committed_factory, policies, admin):
    from registry.policies.rules import load_rules

    sessions = committed_factory
    with sessions() as session:
        ent = make_enterprise(session, admin, uscc=make_uscc("331002", 703_001), name="台州竞态有限公司",
                              size_class="small")
        ent_id, code = ent.id, ent.uscc
        session.commit()
    content = xlsx([["台州竞态改名有限公司", code]], ["企业名称", "统一社会信用代码"])
    editor = sessions()
    update_enterprise(editor, actor=admin, enterprise_id=ent_id, data={"size_class": "micro"}, version=1, at=NOW)
    editor.flush()  # holds the enterprise's lock (PostgreSQL) or the write lock (SQLite) until it commits
    outcome: list[object] = []

    def importer() -> None:
        with sessions() as session:
            try:
                run = run_import(session, actor=admin, rules=load_rules(session, policies), filename="竞态.xlsx",
                                 content=content, mode="apply", at=NOW, today=TODAY)
                session.commit()
                outcome.append(run.status)
            except StaleVersion as exc:
                session.rollback()
                outcome.append(exc)
            except Exception as exc:  # noqa: BLE001  reported by the assertions below
                session.rollback()
                outcome.append(f"{exc.__class__.__name__}: {exc}")

    thread = threading.Thread(target=importer)
    thread.start()
    time.sleep(1.5)
    assert thread.is_alive() and not outcome  # waiting for the edit's transaction
    editor.commit()
    editor.close()
    thread.join(60)
    with sessions() as session:
        stored = session.execute(sa.select(Enterprise.name, Enterprise.size_class, Enterprise.version)
                                 .where(Enterprise.id == ent_id)).one()
        postgres = session.get_bind().dialect.name == "postgresql"
    if postgres:  # the import checked version 1 before the edit committed: refused whole, the edit kept
        assert len(outcome) == 1 and isinstance(outcome[0], StaleVersion), outcome
        assert tuple(stored) == ("台州竞态有限公司", "micro", 2)
    else:  # one writer at a time: the import began after the edit and planned over it
        assert outcome == ["applied"], outcome
        assert tuple(stored) == ("台州竞态改名有限公司", "micro", 3)
